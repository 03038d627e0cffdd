//! The command judge on realistic commands and outputs: test runners, builds, linters,
//! commits, and the commands whose non-zero exit is an answer.

use super::*;

const FAILED: ToolOutcome = ToolOutcome::Failed;
const OK: ToolOutcome = ToolOutcome::Ok;

fn verdict(command: &str, outcome: ToolOutcome, output: &str) -> (Purpose, Verdict) {
    let j = judge(command, outcome, output);
    (j.purpose, j.verdict)
}

#[test]
fn commands_are_known_by_their_runner_however_they_are_run() {
    let cases = [
        ("pytest", Purpose::Test),
        ("python -m pytest tests/ -x -q", Purpose::Test),
        ("python3.12 -m pytest", Purpose::Test),
        ("uv run pytest -k auth", Purpose::Test),
        ("poetry run pytest", Purpose::Test),
        (
            "cd backend && PYTHONPATH=. pytest tests/unit 2>&1 | tail -20",
            Purpose::Test,
        ),
        ("python -m unittest discover", Purpose::Test),
        ("cargo test --all-features -- --nocapture", Purpose::Test),
        ("cargo nextest run", Purpose::Test),
        ("RUST_BACKTRACE=1 cargo test parser::", Purpose::Test),
        ("npm test", Purpose::Test),
        ("npm run test:unit -- --watch=false", Purpose::Test),
        ("yarn test", Purpose::Test),
        ("pnpm run test", Purpose::Test),
        ("pnpm --filter web test", Purpose::Test),
        ("npx jest src/auth", Purpose::Test),
        ("npx vitest run", Purpose::Test),
        ("./node_modules/.bin/jest", Purpose::Test),
        ("bun test", Purpose::Test),
        ("deno test -A", Purpose::Test),
        ("go test ./... -run TestLogin", Purpose::Test),
        (
            "mix test test/spotter_web/live/project_review_live_test.exs 2>&1",
            Purpose::Test,
        ),
        (
            "MIX_ENV=test mix test --seed 0 2>&1 | tail -50",
            Purpose::Test,
        ),
        ("bundle exec rspec spec/models", Purpose::Test),
        ("bin/rails test", Purpose::Test),
        ("./gradlew test", Purpose::Test),
        ("mvn -q test", Purpose::Test),
        ("dotnet test", Purpose::Test),
        ("make test", Purpose::Test),
        ("timeout 300 make check", Purpose::Test),
        ("./run_tests.sh", Purpose::Test),
        ("bash scripts/test.sh --fast", Purpose::Test),
        ("swift test", Purpose::Test),
        ("zig build test", Purpose::Test),
        ("npx playwright test", Purpose::Test),
        ("cargo build --release", Purpose::Build),
        ("cargo check", Purpose::Build),
        ("go build ./cmd/server", Purpose::Build),
        ("npx tsc --noEmit", Purpose::Build),
        ("npm run build", Purpose::Build),
        (
            "mix compile --warnings-as-errors 2>&1 | tail -5",
            Purpose::Build,
        ),
        ("make", Purpose::Build),
        ("make -j8", Purpose::Build),
        ("docker build -t app .", Purpose::Build),
        ("cargo clippy --all-targets -- -D warnings", Purpose::Check),
        ("cargo fmt --check", Purpose::Check),
        ("mix credo --strict 2>&1 | tail -10", Purpose::Check),
        ("mix dialyzer", Purpose::Check),
        ("mix format --check-formatted", Purpose::Check),
        ("ruff check .", Purpose::Check),
        ("npx eslint src --ext .ts", Purpose::Check),
        ("npm run lint", Purpose::Check),
        ("mypy src", Purpose::Check),
        ("black --check .", Purpose::Check),
        ("golangci-lint run", Purpose::Check),
        ("pre-commit run --all-files", Purpose::Check),
        ("git commit -m 'fix'", Purpose::Commit),
        (
            "git add -A && git commit --no-verify -m \"wip\"",
            Purpose::Commit,
        ),
        ("git -C repo commit -am x", Purpose::Commit),
        ("mix format", Purpose::Other),
        ("cargo fmt", Purpose::Other),
        ("ruff format src", Purpose::Other),
        ("git status", Purpose::Other),
        ("ls pytest_helpers", Purpose::Other),
        ("cat makefile.bak", Purpose::Other),
        ("grep -r test src/", Purpose::Other),
        ("echo 'run cargo test later'", Purpose::Other),
        ("npm install", Purpose::Other),
        ("mix deps.get", Purpose::Other),
        ("make clean", Purpose::Other),
        ("tail -30 /tmp/tasks/bd0afab.output", Purpose::Other),
        ("pip install pytest", Purpose::Other),
    ];
    for (command, expected) in cases {
        assert_eq!(purpose(command), expected, "{command}");
    }
}

#[test]
fn a_commit_message_is_not_a_command() {
    let command = "git add .gitignore && git commit -m \"$(cat <<'EOF'\nAdd Python files; run cargo test && pytest (it's fine)\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nEOF\n)\"";
    assert_eq!(purpose(command), Purpose::Commit);
    assert_eq!(goal(command), "commit: git commit");
}

#[test]
fn attempts_at_the_same_goal_share_it() {
    let same = [
        ("python -m pytest", "uv run pytest tests/ -x"),
        (
            "mix test test/a_test.exs 2>&1",
            "mix test test/a_test.exs 2>&1 | tail -20",
        ),
        (
            "git add -A && git commit -m \"feat: one\"",
            "git add -A && git commit --no-verify -m \"feat: one, again\"",
        ),
        ("cargo build", "cargo build --release 2>&1 | head -50"),
        ("npm run lint", "npm run lint -- --fix"),
        ("cd app && ./deploy.sh", "./deploy.sh 2>&1 | tail -5"),
    ];
    for (a, b) in same {
        assert_eq!(goal(a), goal(b), "{a} / {b}");
    }
    let different = [
        ("mix test", "mix credo"),
        ("cargo build", "cargo test"),
        ("git push", "git commit -m x"),
        ("ls src", "ls tests"),
    ];
    for (a, b) in different {
        assert_ne!(goal(a), goal(b), "{a} / {b}");
    }
}

#[test]
fn failing_test_runs_fail_however_their_exit_status_is_lost() {
    let cases = [
        // pytest.
        (
            "pytest -q",
            OK,
            "..F.\n=================================== FAILURES ===================================\n___ test_login ___\nE   assert 401 == 200\n=========================== short test summary info ============================\nFAILED tests/test_auth.py::test_login - assert 401 == 200\n========================= 1 failed, 3 passed in 0.42s ==========================",
        ),
        (
            "python -m pytest tests 2>&1 | tail -3",
            OK,
            "FAILED tests/test_x.py::test_y\n2 failed, 40 passed, 1 skipped in 3.10s",
        ),
        (
            "pytest",
            FAILED,
            "Exit code 2\n==================================== ERRORS ====================================\n_____ ERROR collecting tests/test_api.py _____\nImportError: cannot import name 'app'\n=========================== 1 error in 0.31s ===========================",
        ),
        // cargo test.
        (
            "cargo test 2>&1 | tail -5",
            OK,
            "failures:\n    parser::tests::empty\n\ntest result: FAILED. 41 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.02s\n\nerror: test failed, to rerun pass `--lib`",
        ),
        (
            "cargo test",
            FAILED,
            "Exit code 101\n   Compiling app v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n --> src/lib.rs:3:5\nerror: could not compile `app` (lib test) due to 1 previous error",
        ),
        // jest and vitest.
        (
            "npx jest 2>&1 | tail -8",
            OK,
            "FAIL src/auth.test.ts\n  ● login › rejects a bad password\n\nTest Suites: 1 failed, 4 passed, 5 total\nTests:       1 failed, 27 passed, 28 total\nSnapshots:   0 total\nTime:        2.31 s",
        ),
        (
            "npx vitest run | tail -6",
            OK,
            " ❯ src/sum.test.ts (2 tests | 1 failed) 4ms\n\n Test Files  1 failed | 3 passed (4)\n      Tests  1 failed | 11 passed (12)\n   Start at  10:12:01\n   Duration  612ms",
        ),
        // go test.
        (
            "go test ./... 2>&1 | tail -4",
            OK,
            "--- FAIL: TestLogin (0.00s)\n    auth_test.go:12: got 401, want 200\nFAIL\nFAIL\texample.com/app/auth\t0.004s",
        ),
        // npm test with a runner that only reports through npm.
        (
            "npm test",
            FAILED,
            "Exit code 1\n\n> app@1.0.0 test\n> node test.js\n\nAssertionError [ERR_ASSERTION]: 1 == 2\nnpm ERR! Test failed.  See above for more details.",
        ),
        // mix (the corpus's own run, piped).
        (
            "mix test 2>&1 | tail -5",
            OK,
            "  test/spotter_web/live/project_review_live_test.exs:42\n\nFinished in 0.4 seconds (0.1s async, 0.3s sync)\n12 tests, 2 failures\n\nRandomized with seed 918599",
        ),
        (
            "mix test test/spotter_web/live/project_review_live_test.exs 2>&1",
            FAILED,
            "Exit code 1\nCompiling 4 files (.ex)\nGenerated spotter app\nRunning ExUnit with seed: 873002, max_cases: 32\n\n     error: undefined function get/2 (expected SpotterWeb.ProjectReviewLiveTest to define such a function or for it to be imported, but none are available)\n\n== Compilation error in file test/spotter_web/live/project_review_live_test.exs ==\n** (CompileError) test/spotter_web/live/project_review_live_test.exs: cannot compile module",
        ),
        // rspec and minitest.
        (
            "bundle exec rspec | tail -3",
            OK,
            "Finished in 1.2 seconds (files took 0.8 seconds to load)\n14 examples, 2 failures\n",
        ),
        (
            "bin/rails test",
            OK,
            "Finished in 0.51s\n9 runs, 14 assertions, 0 failures, 1 errors, 0 skips",
        ),
        // unittest, phpunit, dotnet.
        (
            "python -m unittest",
            FAILED,
            "Exit code 1\nF.\n======================================================================\nFAIL: test_add (test_math.T)\n----------------------------------------------------------------------\nRan 2 tests in 0.001s\n\nFAILED (failures=1)",
        ),
        (
            "vendor/bin/phpunit",
            FAILED,
            "Exit code 1\nThere was 1 failure:\n\nFAILURES!\nTests: 3, Assertions: 5, Failures: 1.",
        ),
        (
            "dotnet test | tail -2",
            OK,
            "Failed!  - Failed:     1, Passed:    10, Skipped:     0, Total:    11, Duration: 1 s",
        ),
    ];
    for (command, outcome, output) in cases {
        assert_eq!(
            verdict(command, outcome, output),
            (Purpose::Test, Verdict::Failed),
            "{command}\n{output}"
        );
        assert_eq!(judge(command, outcome, output).gate(), Some(false));
    }
}

#[test]
fn passing_test_runs_pass() {
    let cases = [
        ("pytest -q", OK, "....\n4 passed in 0.12s"),
        (
            "cargo test",
            OK,
            "running 42 tests\n..........\ntest result: ok. 42 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s",
        ),
        (
            "npx jest",
            OK,
            "PASS src/a.test.ts\nTest Suites: 5 passed, 5 total\nTests:       28 passed, 28 total",
        ),
        (
            "go test ./...",
            OK,
            "ok  \texample.com/app/auth\t0.004s\n?   \texample.com/app/cmd\t[no test files]",
        ),
        (
            "mix test 2>&1 | tail -3",
            OK,
            "Finished in 0.4 seconds\n1 doctest, 44 tests, 0 failures, 2 excluded\n",
        ),
        ("bundle exec rspec", OK, "14 examples, 0 failures"),
        // A test whose name says "failed" is no failure.
        (
            "pytest -v",
            OK,
            "tests/test_login.py::test_failed_login_is_logged PASSED\n1 passed in 0.05s",
        ),
        // No summary at all: the exit status decides.
        ("./run_tests.sh", OK, "all good"),
    ];
    for (command, outcome, output) in cases {
        assert_eq!(
            verdict(command, outcome, output),
            (Purpose::Test, Verdict::Passed),
            "{command}\n{output}"
        );
        assert_eq!(judge(command, outcome, output).gate(), Some(true));
    }
}

#[test]
fn a_run_that_found_no_tests_is_neither_pass_nor_failure() {
    let j = judge(
        "pytest -k nothing",
        FAILED,
        "Exit code 5\ncollected 12 items / 12 deselected / 0 selected\n\n===== no tests ran in 0.02s =====",
    );
    assert_eq!(j.verdict, Verdict::Answered);
    assert_eq!(j.gate(), None);
}

#[test]
fn builds_and_checks_fail_by_exit_code_or_by_what_they_print() {
    let cases = [
        (
            "npx tsc --noEmit | head -20",
            OK,
            "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
            Purpose::Build,
        ),
        (
            "cargo build 2>&1 | tail -3",
            OK,
            "error[E0308]: mismatched types\nerror: could not compile `app` (bin \"app\") due to 1 previous error",
            Purpose::Build,
        ),
        (
            "mix compile 2>&1 | tail -5",
            OK,
            "** (CompileError) lib/app.ex:3: undefined function foo/0",
            Purpose::Build,
        ),
        (
            "make",
            FAILED,
            "Exit code 2\ncc -c main.c\nmain.c:3:1: error: expected ';'\nmake: *** [Makefile:4: main.o] Error 1",
            Purpose::Build,
        ),
        (
            "./gradlew build",
            FAILED,
            "Exit code 1\n> Task :compileJava FAILED\n\nFAILURE: Build failed with an exception.\n\nBUILD FAILED in 3s",
            Purpose::Build,
        ),
        (
            "mix credo --strict 2>&1",
            FAILED,
            "Exit code 12\nChecking 88 source files ...\n  Refactoring opportunities\n┃ [F] → Function is too complex (cyclomatic complexity is 13, max is 9).",
            Purpose::Check,
        ),
        (
            "ruff check . | tail -2",
            OK,
            "app/x.py:1:8: F401 [*] `os` imported but unused\nFound 1 error.",
            Purpose::Check,
        ),
        (
            "npx eslint src",
            FAILED,
            "Exit code 1\n/app/src/a.js\n  1:7  error  'x' is assigned a value but never used  no-unused-vars\n\n✖ 1 problem (1 error, 0 warnings)",
            Purpose::Check,
        ),
        (
            "mypy src",
            FAILED,
            "Exit code 1\nsrc/a.py:3: error: Incompatible types in assignment\nFound 1 error in 1 file (checked 4 source files)",
            Purpose::Check,
        ),
    ];
    for (command, outcome, output, purpose) in cases {
        assert_eq!(
            verdict(command, outcome, output),
            (purpose, Verdict::Failed),
            "{command}"
        );
    }
    assert_eq!(
        verdict("mypy src", OK, "Success: no issues found in 4 source files"),
        (Purpose::Check, Verdict::Passed)
    );
    assert_eq!(
        verdict(
            "cargo build",
            OK,
            "warning: unused variable: `x`\n    Finished `dev` profile"
        ),
        (Purpose::Build, Verdict::Passed)
    );
}

#[test]
fn answers_are_not_failures() {
    let cases = [
        ("grep -rn \"TODO\" src/", "Exit code 1", "no match"),
        ("rg 'fn main' crates", "Exit code 1\n", "no match"),
        ("grep -c foo log.txt", "Exit code 1\n0", "no match"),
        ("git grep -n needle", "Exit code 1", "no match"),
        ("cat config.yml | grep -i port", "Exit code 1", "no match"),
        ("test -f .env", "Exit code 1", "condition not met"),
        (
            "[ -d node_modules ] && echo yes",
            "Exit code 1",
            "condition not met",
        ),
        (
            "grep -q 'version' Cargo.toml && echo found",
            "Exit code 1",
            "no match",
        ),
        (
            "diff a.txt b.txt",
            "Exit code 1\n1c1\n< a\n---\n> b",
            "differences found",
        ),
        (
            "git diff --exit-code",
            "Exit code 1\ndiff --git a/x b/x",
            "differences found",
        ),
        (
            "which gtimeout",
            "Exit code 1\ngtimeout not found",
            "not found",
        ),
        ("command -v rg", "Exit code 1", "not found"),
        (
            "pgrep -f 'mix phx.server'",
            "Exit code 1",
            "no such process",
        ),
        (
            "git add .gitignore && git commit -m \"$(cat <<'EOF'\nAdd Python and coverage files to gitignore\nEOF\n)\"",
            "Exit code 1\nOn branch master\nnothing to commit, working tree clean",
            "nothing to commit",
        ),
        (
            "git commit -am wip",
            "Exit code 1\nOn branch main\nChanges not staged for commit:\n\tmodified:   a.txt\n\nno changes added to commit (use \"git add\" and/or \"git commit -a\")",
            "nothing to commit",
        ),
    ];
    for (command, output, note) in cases {
        let j = judge(command, FAILED, output);
        assert_eq!(j.verdict, Verdict::Answered, "{command}\n{output}");
        assert_eq!(j.note.as_deref(), Some(note), "{command}");
        assert_eq!(j.gate(), None, "{command}");
    }
}

#[test]
fn real_errors_of_ordinary_commands_stay_failures() {
    let cases = [
        (
            "git push 2>&1",
            "Exit code 128\nfatal: The current branch spotter-gqc has no upstream branch.",
        ),
        (
            "grep -r x missing/",
            "Exit code 2\ngrep: missing/: No such file or directory",
        ),
        (
            "cd nowhere && grep x f",
            "Exit code 1\n(eval):cd:1: no such file or directory: nowhere",
        ),
        (
            "source scripts/lib.sh && rand_hex 16 | grep -E '^[0-9a-f]{32}$'",
            "Exit code 1\n(eval):1: permission denied:",
        ),
        (
            "ls /nope",
            "Exit code 2\nls: cannot access '/nope': No such file or directory",
        ),
        (
            "python3 scripts/share.py",
            "Exit code 1\nError: Session info not available.",
        ),
        (
            "curl -fsS http://localhost:4000/health",
            "Exit code 7\ncurl: (7) Failed to connect",
        ),
    ];
    for (command, output) in cases {
        let j = judge(command, FAILED, output);
        assert_eq!(j.verdict, Verdict::Failed, "{command}\n{output}");
        // None of them says anything about tests or builds.
        assert_eq!(j.gate(), None, "{command}");
    }
}

#[test]
fn a_commit_blocked_by_its_hooks_checks_fails_the_checks() {
    let outputs = [
        "Pre-commit validation failed:\\n\\n[FORMAT] Code is not formatted.\\nRun 'mix format' to fix.\\n\\nFix these issues before committing.",
        "Exit code 1\ntrim trailing whitespace.................................................Passed\nruff.....................................................................Failed\n- hook id: ruff\n- exit code: 1",
        "Exit code 1\n✖ lint-staged failed due to a git error.\nhusky - pre-commit hook exited with code 1 (error)",
    ];
    for output in outputs {
        let j = judge("git add -A && git commit -m \"feat: x\"", FAILED, output);
        assert_eq!(
            (j.purpose, j.verdict, j.blocked_by_hook),
            (Purpose::Commit, Verdict::Failed, true),
            "{output}"
        );
        assert_eq!(j.gate(), Some(false));
    }
    // A commit that fails for another reason is a failure that says nothing of the checks.
    let j = judge(
        "git commit -m x",
        FAILED,
        "Exit code 128\nfatal: unable to auto-detect email address",
    );
    assert_eq!((j.verdict, j.gate()), (Verdict::Failed, None));
    // A commit that went through says nothing of them either.
    assert_eq!(judge("git commit -m x", OK, "[main 1a2b3c] x").gate(), None);
}

#[test]
fn a_refused_command_is_a_rejection_whatever_it_was() {
    let j = judge(
        "mix test",
        ToolOutcome::Rejected,
        "The user doesn't want to proceed",
    );
    assert_eq!(
        (j.purpose, j.verdict, j.gate()),
        (Purpose::Test, Verdict::Rejected, None)
    );
}

#[test]
fn exit_codes_are_read_from_the_first_line() {
    assert_eq!(exit_code("Exit code 1\nboom"), Some(1));
    assert_eq!(exit_code("Error: Exit code 128\nfatal"), Some(128));
    assert_eq!(exit_code("boom\nExit code 1"), None);
    assert_eq!(exit_code(""), None);
}

#[test]
fn odd_commands_never_panic() {
    for command in [
        "",
        "'",
        "\"unterminated",
        "\\",
        "a | | b",
        "echo >",
        "2>&1",
        "cat <<EOF",
        "(((",
        "git",
        "é | ü && 漢字",
        "FOO=bar",
        "timeout",
        "python -m",
    ] {
        let _ = judge(command, FAILED, "Exit code 1");
        let _ = goal(command);
    }
}

/// Calls `check` with every command, outcome and output of one table, which both a call's gate
/// and its result are judged over from its purpose alone (8 commands × 3 outcomes × 7 outputs).
fn each_command_outcome_and_output(mut check: impl FnMut(&str, ToolOutcome, &str)) {
    for command in [
        "pytest -x",
        "cd app && npm test 2>&1 | tail -5",
        "cargo build",
        "ruff check .",
        "git commit -m wip",
        "grep -c TODO src/a.rs",
        "test -f a.txt",
        "ls",
    ] {
        for outcome in [OK, FAILED, ToolOutcome::Rejected] {
            for output in [
                "",
                "Exit code 1\n1 failed, 3 passed",
                "3 passed in 0.1s",
                "Exit code 1\nnothing to commit, working tree clean",
                "Exit code 1\npre-commit hook failed",
                "Exit code 1\n0",
                "Exit code 1\n",
            ] {
                check(command, outcome, output);
            }
        }
    }
}

/// A command's purpose is all its gate takes: a watch keeps that of a call waiting for its
/// result, not the command.
#[test]
fn a_gate_is_told_by_the_purpose_alone() {
    let mut told = 0;
    each_command_outcome_and_output(|command, outcome, output| {
        told += 1;
        assert_eq!(
            gate(purpose(command), outcome, output),
            judge(command, outcome, output).gate(),
            "{command} {outcome:?} {output}"
        );
    });
    assert_eq!(told, 8 * 3 * 7);
}

/// Every result but a failed command for nothing a purpose names is judged as the whole
/// command would judge it from its purpose alone: the per-session summary keeps the purpose of
/// a call waiting for its result, and the words only where they are needed.
#[test]
fn a_result_is_judged_by_the_purpose_alone_where_it_says_so() {
    let mut alone = 0;
    each_command_outcome_and_output(|command, outcome, output| {
        let purpose = purpose(command);
        if !purpose.judges_alone(outcome) {
            return;
        }
        alone += 1;
        assert_eq!(
            judge_by_purpose(purpose, outcome, output),
            judge(command, outcome, output),
            "{command} {outcome:?} {output}"
        );
    });
    // A failed `grep`, `test` or `ls` is judged by its words: 3 commands × 7 outputs.
    assert_eq!(alone, 8 * 3 * 7 - 3 * 7);
}
