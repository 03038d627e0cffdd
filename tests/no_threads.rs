//! Commands that use threads only for speed still work, with the same output, when the OS
//! refuses every new thread (a process limit reached): `import --all` (files in parallel), the
//! index's scan behind `list`, `list --format json` (a long list serialised in parts) and
//! `stats` of a large session (its file read in parts). The stdio proxy, which cannot relay
//! without threads, lets the server run unrecorded in its place, and says so in the session;
//! a proxy's sending of what its store keeps for the collector takes no thread the relay needs.
//!
//! The limit is RLIMIT_NPROC, which root ignores: the binary runs as a user of the test's own under
//! `setpriv` and `prlimit --nproc=1`, from a copy in a folder any user may use. Without root or
//! those tools, the tests say so on stderr and check nothing.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::session::SessionBuilder;
use crate::common::{Run, TestEnv, bin, shared};

/// A folder any user may read and write, holding a copy of the binary.
struct Unprivileged {
    env: TestEnv,
    bin: PathBuf,
    /// A user id of this test's own: the process limit counts every process of a user, and
    /// tests running at once must not use up each other's.
    uid: u32,
}

impl Unprivileged {
    /// `None` (after saying why) where a process limit cannot be set for another user.
    fn new() -> Option<Unprivileged> {
        let tools = ["setpriv", "prlimit"].iter().all(|tool| {
            Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if !(tools && root) {
            eprintln!(
                "skipped: needs root, setpriv and prlimit to run the binary under a process limit"
            );
            return None;
        }
        let env = TestEnv::new();
        let copy = env.path().join("agent-strace");
        std::fs::copy(bin(), &copy).expect("copy the binary");
        let uid = 100_000 + own_number(env.path()) % 100_000;
        let this = Unprivileged {
            env,
            bin: copy,
            uid,
        };
        this.open_to_all();
        Some(this)
    }

    /// Everything under the folder (and the environment's home) opened to every user, as the
    /// tests' files are written by root.
    fn open_to_all(&self) {
        for dir in [self.env.path(), self.env.home()] {
            open_tree(dir);
        }
    }

    /// `args` run unprivileged with no thread to be had, in the environment.
    fn run_without_threads(&self, args: &[&str]) -> Run {
        self.run_unprivileged(args, &["prlimit", "--nproc=1", "--"])
    }

    /// `args` run unprivileged, with threads.
    fn run(&self, args: &[&str]) -> Run {
        self.run_unprivileged(args, &[])
    }

    fn run_unprivileged(&self, args: &[&str], limit: &[&str]) -> Run {
        self.run_unprivileged_given(args, limit, b"")
    }

    /// [`Self::run_unprivileged`], with `input` on stdin.
    fn run_unprivileged_given(&self, args: &[&str], limit: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .unprivileged(args, limit)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run setpriv");
        let mut stdin = child.stdin.take().expect("stdin");
        // A command that refuses to start (exit 4, no server run) ends without reading its
        // input: the pipe it closed is its answer, not the test's failure.
        if let Err(e) = stdin.write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
        drop(stdin);
        Run::of(child.wait_with_output().expect("wait for setpriv"))
    }

    /// The command that runs `args` unprivileged under `limit`, in the environment; `setpriv`
    /// and `prlimit` exec the binary, so its process id is the binary's.
    fn unprivileged(&self, args: &[&str], limit: &[&str]) -> Command {
        self.open_to_all();
        let plain = self.env.command(args);
        let mut cmd = Command::new("setpriv");
        let uid = format!("--reuid={}", self.uid);
        cmd.args([uid.as_str(), "--regid=65534", "--clear-groups"])
            .args(limit)
            .arg(&self.bin)
            .args(plain.get_args())
            .current_dir(self.env.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin");
        for (name, value) in plain.get_envs() {
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
        cmd
    }
}

/// A number of `path`'s own, from its name.
fn own_number(path: &Path) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    path.hash(&mut hasher);
    (hasher.finish() % u64::from(u32::MAX)) as u32
}

fn open_tree(path: &Path) {
    let mode = if path.is_dir() { 0o777 } else { 0o666 };
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            open_tree(&entry.path());
        }
    }
    if path.file_name().is_some_and(|n| n == "agent-strace") {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
}

/// A Claude folder holding three transcripts of the corpus, under `projects/`.
fn claude_folder(under: &Path) -> PathBuf {
    let corpus = shared()
        .join("corpus")
        .join("claude-code")
        .join("marot__spotter");
    let projects = under.join("claude").join("projects").join("-work-spotter");
    std::fs::create_dir_all(&projects).expect("projects");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("corpus/claude-code/marot__spotter")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    for file in files.iter().take(3) {
        std::fs::copy(file, projects.join(file.file_name().expect("a name"))).expect("copy");
    }
    under.join("claude")
}

#[test]
fn import_all_imports_every_file_when_no_thread_can_be_started() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let claude = claude_folder(env.env.path());
    let claude = claude.to_str().expect("a UTF-8 path");
    let without = env.env.path().join("without-threads");
    let with = env.env.path().join("with-threads");
    let import_into = |store: &Path| -> Vec<String> {
        let store = store.to_str().expect("a UTF-8 path");
        [
            "--trace-dir",
            store,
            "import",
            "--all",
            "--claude-dir",
            claude,
            "--format",
            "json",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let args = import_into(&without);
    let imported = env.run_without_threads(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        imported.code == 0,
        "import --all failed without threads: {}",
        imported.stderr
    );
    assert!(!imported.stderr.contains("panicked"), "{}", imported.stderr);
    let reports = imported.json();
    assert_eq!(reports.as_array().map(Vec::len), Some(3), "{reports}");

    // The same files imported with threads, into another store: the same sessions and events.
    let args = import_into(&with);
    let with_threads = env.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    with_threads.success();
    let counts = |reports: &Value| -> Vec<(String, u64)> {
        let mut counts: Vec<(String, u64)> = reports
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["session_id"].as_str().unwrap_or_default().to_owned(),
                    r["events"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        counts.sort();
        counts
    };
    assert_eq!(counts(&reports), counts(&with_threads.json()));
    assert!(counts(&reports).iter().all(|(_, events)| *events > 0));
}

#[test]
fn list_and_stats_answer_when_no_thread_can_be_started() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    // A long list (serialised in parts) and a large session (read in parts).
    let store = env.env.store();
    for n in 0..2100 {
        SessionBuilder::new(&format!("list-{n:05}"))
            .prompt("fix the tests")
            .write_in(&store);
    }
    let mut large = SessionBuilder::new("large-session").prompt("read everything");
    let body = "x".repeat(2048);
    for n in 0..2600 {
        large = large
            .tool_call("Read", json!({"file_path": format!("/src/file-{n}.rs")}))
            .result(json!({"content": body}));
    }
    large.write_in(&store);

    let listed = env.run_without_threads(&["list", "--format", "json"]);
    assert!(
        listed.code == 0,
        "list failed without threads: {}",
        listed.stderr
    );
    assert!(!listed.stderr.contains("panicked"), "{}", listed.stderr);
    let threaded = env.run(&["list", "--format", "json"]);
    threaded.success();
    assert_eq!(listed.json(), threaded.json());
    assert_eq!(listed.json().as_array().map(Vec::len), Some(2101));

    let events = std::fs::metadata(store.join("large-session").join("events.ndjson"))
        .expect("events")
        .len();
    assert!(
        events > 4 * 1024 * 1024,
        "the session must be read in parts: {events} bytes"
    );
    let stats = env.run_without_threads(&["stats", "large-session", "--format", "json"]);
    assert!(
        stats.code == 0,
        "stats failed without threads: {}",
        stats.stderr
    );
    let threaded = env.run(&["stats", "large-session", "--format", "json"]);
    threaded.success();
    assert_eq!(stats.json(), threaded.json());
}

/// A server of one answer, in the shell alone (no process of its own to start): it reads one
/// line and answers it.
const ONE_ANSWER_SERVER: &str =
    r#"read -r line; printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{}}'"#;
const PING: &[u8] = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";

/// The arguments that run [`ONE_ANSWER_SERVER`] through `record`.
const RECORD_ONE_ANSWER: [&str; 7] = [
    "record",
    "--name",
    "echo",
    "--",
    "sh",
    "-c",
    ONE_ANSWER_SERVER,
];

/// Runs the one-answer server through `record` under `--nproc=<nproc>`, and checks that the
/// server's answer reached the client, and that stderr and the session (which has ended) say
/// `why` and that the server ran unrecorded.
fn relayed_unrecorded(env: &Unprivileged, nproc: &str, why: &str) -> Run {
    let limit = format!("--nproc={nproc}");
    let relayed =
        env.run_unprivileged_given(&RECORD_ONE_ANSWER, &["prlimit", limit.as_str(), "--"], PING);
    assert!(!relayed.stderr.contains("panicked"), "{}", relayed.stderr);
    assert_eq!(relayed.code, 0, "{}", relayed.stderr);
    assert_eq!(
        relayed.stdout, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
        "the server's answer must reach the client: {}",
        relayed.stderr
    );
    assert!(
        relayed.stderr.contains(why) && relayed.stderr.contains("the server runs unrecorded"),
        "{}",
        relayed.stderr
    );
    let sessions = env.env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events = env.env.events(&sessions[0]);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        ["session_start", "error", "session_end"],
        "{events:#?}"
    );
    assert!(
        events[1]["data"]["error"]
            .as_str()
            .is_some_and(|e| e.contains(why) && e.contains("the server runs unrecorded")),
        "{events:#?}"
    );
    relayed
}

#[test]
fn record_lets_the_server_run_unrecorded_when_no_thread_can_be_started() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let relayed = relayed_unrecorded(&env, "1", "cannot start a thread for the relay");
    // With threads, the same server relays the same bytes, and nothing is said.
    let threaded = env.run_unprivileged_given(&RECORD_ONE_ANSWER, &[], PING);
    assert_eq!(threaded.code, 0, "{}", threaded.stderr);
    assert_eq!(threaded.stdout, relayed.stdout);
    assert!(threaded.stderr.is_empty(), "{}", threaded.stderr);
}

/// The error `record` wrote when it relayed a server unrecorded (no thread for its relay) was
/// an error of the agent's turn in stats, though only our own recording stopped; it is a gap in
/// the recording, counted in no error figure and said apart, and explain lists it so.
#[test]
fn a_server_record_relayed_unrecorded_is_a_gap_in_the_recording_and_no_error_of_a_turn() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    relayed_unrecorded(&env, "1", "cannot start a thread for the relay");
    let stats = env.env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (&stats["errors"], &stats["recording_stopped"]),
        (&json!(0), &json!(1)),
        "{stats:#}"
    );
    let said = env.env.run(&["stats"]).success().stdout.clone();
    assert!(said.contains("Recording stopped: 1"), "{said}");
    let session = &env.env.sessions()[0];
    let explained = env.env.run(&["explain", session]).success().stdout.clone();
    assert!(
        crate::common::gaps_explained(&explained).contains("the server runs unrecorded"),
        "{explained}"
    );
}

/// `record-http`, refused the thread its recorder needs, goes on serving unrecorded: the
/// server's answer reaches the client, and the session says why in an error that is a gap in
/// the recording, counted in no error figure, and ends.
#[test]
fn record_http_serves_unrecorded_when_no_thread_can_be_started_for_its_recorder() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let (_server, spy_port) = crate::mcp_http::spy_server(&env.env, None);
    let url = format!("http://127.0.0.1:{spy_port}/mcp");
    let mut cmd = env.unprivileged(
        &["record-http", &url, "--port", "0"],
        &["prlimit", "--nproc=1", "--"],
    );
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let (proxy, port) = crate::common::net::spawn_proxy(cmd);
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"echo","params":{"n":7}}"#;
    let answer = crate::mcp_http::raw_request(port, &crate::mcp_http::post(body, ""));
    assert!(
        answer.ends_with(r#"{"jsonrpc":"2.0","id":7,"result":{"n":7}}"#),
        "{answer}"
    );
    assert_eq!(proxy.terminate(), Some(0));
    let sessions = recorded_sessions(&env);
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events = env.env.events(&sessions[0]);
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        ["session_start", "error", "session_end"],
        "nothing that passed is recorded: {events:#?}"
    );
    let error = &events[1]["data"];
    assert!(
        error["error"].as_str().is_some_and(|e| {
            e.contains("cannot start a thread for the recorder") && e.contains("serving unrecorded")
        }),
        "{events:#?}"
    );
    assert_eq!(error["recording_stopped"], json!(true), "{events:#?}");
    let stats = env.env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (&stats["errors"], &stats["recording_stopped"]),
        (&json!(0), &json!(1)),
        "{stats:#}"
    );
    let explained = env
        .env
        .run(&["explain", &sessions[0]])
        .success()
        .stdout
        .clone();
    assert!(
        crate::common::gaps_explained(&explained).contains("serving unrecorded"),
        "{explained}"
    );
}

/// `record --policy` of a server answering one ping, run where no process or thread can be
/// started (`prlimit --nproc=1`).
fn record_with_a_policy_and_no_thread(env: &Unprivileged) -> Run {
    let policy = env.env.path().join("policy.json");
    std::fs::write(&policy, r#"{"files": {"read": {"deny": [".env"]}}}"#).expect("policy");
    let policy = policy.to_str().expect("a UTF-8 path");
    let args = [
        "record",
        "--policy",
        policy,
        "--",
        "sh",
        "-c",
        ONE_ANSWER_SERVER,
    ];
    env.run_unprivileged_given(&args, &["prlimit", "--nproc=1", "--"], PING)
}

#[test]
fn record_with_a_policy_runs_no_server_when_no_thread_can_be_started() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let refused = record_with_a_policy_and_no_thread(&env);
    assert!(!refused.stderr.contains("panicked"), "{}", refused.stderr);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert_eq!(refused.stdout, "", "no server may run unguarded");
    assert!(
        refused
            .stderr
            .contains("cannot start a thread for the relay")
            && refused.stderr.contains("its policy cannot be enforced"),
        "{}",
        refused.stderr
    );
}

/// A server `record --policy` never started, as it could not guard it (no thread for the
/// relay), left a plain error that stats, list and sql counted as an error of the agent's turn,
/// where a server whose command cannot be run is a launch failure (74f405cd); it is one too.
#[test]
fn a_server_record_could_not_guard_is_a_launch_failure_and_no_error_of_a_turn() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let refused = record_with_a_policy_and_no_thread(&env);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    let sessions = env.env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let stats = env.env.run(&["stats", "--format", "json"]).success().json();
    assert_eq!(
        (&stats["errors"], &stats["launch_failures"]),
        (&json!(0), &json!(1)),
        "{stats:#}"
    );
    let said = env.env.run(&["stats"]).success().stdout.clone();
    assert!(
        said.contains("The MCP server could not be launched"),
        "{said}"
    );
    let list = env.env.run(&["list", "--format", "json"]).success().json();
    assert_eq!(list[0]["errors"], json!(0), "{list:#}");
    let sql = env
        .env
        .run(&["sql", "--format", "json", "SELECT errors FROM sessions"])
        .success()
        .json();
    assert_eq!(sql, json!([{"errors": 0}]));
}

#[test]
fn watch_streams_nothing_and_says_so_when_no_thread_can_be_started() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    SessionBuilder::new("watched")
        .prompt("fix the tests")
        .tool_call("Bash", json!({"command": "cargo test"}))
        .result(json!({"stdout": "ok"}))
        .session_end(json!({"reason": "exit"}))
        .write_in(&env.env.store());
    let watched = env.run_without_threads(&[
        "watch",
        "watched",
        "--stream-to",
        "http://127.0.0.1:9/ingest",
    ]);
    assert!(!watched.stderr.contains("panicked"), "{}", watched.stderr);
    assert_eq!(watched.code, 0, "{}", watched.stderr);
    assert!(
        watched
            .stderr
            .contains("cannot start the thread that streams events"),
        "{}",
        watched.stderr
    );
    assert!(watched.stdout.contains("cargo test"), "{}", watched.stdout);
}

/// The relay's threads are had, but the server's own process is not (the limit is one process
/// higher): the server still runs, in the proxy's place, and the session says why and ends.
#[test]
fn record_lets_the_server_run_unrecorded_when_its_process_is_refused() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    // The proxy and its three threads fit; a fifth task does not.
    relayed_unrecorded(&env, "4", "cannot start the server's process");
}

/// A server that cannot be run at all: exit 127, and the session says why and has ended (it
/// was left `running`).
#[test]
fn a_server_that_cannot_be_run_leaves_an_ended_session() {
    let env = TestEnv::new();
    let run = env.run_with_stdin(&["record", "--", "/nonexistent/server"], PING);
    assert_eq!(run.code, 127, "{}", run.stderr);
    let sessions = env.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events = env.events(&sessions[0]);
    assert_eq!(
        events.last().unwrap()["event_type"],
        "session_end",
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| e["event_type"] == "error"
            && e["data"]["error"]
                .as_str()
                .is_some_and(|m| m.contains("cannot run /nonexistent/server"))),
        "{events:#?}"
    );
}

/// One HTTP/1.1 POST of `body` to the collector on `port`: the answer's status line, or what
/// went wrong (a connection closed with no answer).
fn post(port: u16, path: &str, body: &[u8]) -> Result<String, String> {
    use std::io::Read;
    let mut stream =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| e.to_string())?;
    stream.write_all(body).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    match answer.lines().next() {
        Some(status) if status.starts_with("HTTP/1.1 ") => Ok(status.to_owned()),
        _ => Err(format!("no answer: {answer:?}")),
    }
}

/// The collector's handler threads are started with it: once it serves, a request is handled
/// even when the OS refuses every new thread. Before, a handler's thread was started on demand,
/// and a refusal dropped the connection with no answer.
#[test]
fn the_collector_answers_when_no_thread_can_be_started_once_it_serves() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let storage = env.env.path().join("collected");
    let storage_text = storage.to_string_lossy().into_owned();
    let mut command = env.unprivileged(&["server", "--port", "0", "--storage", &storage_text], &[]);
    command.stdin(Stdio::null()).stdout(Stdio::null());
    let (server, port) = crate::common::net::serve_quietly(command);
    // From now on, no new thread for the collector's user. Only the process's own user may set
    // its limits (root here has no CAP_SYS_RESOURCE over another user's process).
    let limited = Command::new("setpriv")
        .arg(format!("--reuid={}", env.uid))
        .args(["--regid=65534", "--clear-groups", "prlimit"])
        .arg(format!("--pid={}", server.0.id()))
        .arg("--nproc=1")
        .status()
        .expect("run prlimit");
    assert!(limited.success());
    let event = json!({"event_type": "user_prompt", "timestamp": 1_700_000_000.0,
        "event_id": "e1", "session_id": "collected-1", "data": {"prompt": "fix the tests"}});
    let answer = post(port, "/events", format!("{event}\n").as_bytes());
    assert_eq!(answer.as_deref(), Ok("HTTP/1.1 200 OK"), "{answer:?}");
    let events = std::fs::read_to_string(storage.join("collected-1/events.ndjson")).unwrap();
    assert!(events.contains("fix the tests"), "{events}");
}

/// A collector that cannot have even one thread to handle requests does not start: one line
/// says why, and it exits.
#[test]
fn the_collector_says_why_it_cannot_start_without_a_thread() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let mut server = env
        .unprivileged(&["server", "--port", "0"], &["prlimit", "--nproc=1", "--"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the collector");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > crate::common::wait::HANG {
            let _ = server.kill();
            panic!("the collector served with no thread to handle a request");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot start a thread to handle requests"),
        "{stderr}"
    );
}

/// A collector that takes every connection and never answers, holding it open: a proxy's
/// sending of what its store keeps waits on it for its whole time. Its endpoint.
fn silent_collector() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Plants in `env`'s spool a proxy's batch of one event kept for the collector by an earlier
/// session, which a proxy with an endpoint sends beside its relay.
fn plant_kept_batch(env: &Unprivileged) -> PathBuf {
    let spool = env.env.store().join(".spool");
    std::fs::create_dir_all(&spool).expect("spool");
    let meta = json!({"session_id": "kept-earlier", "started_at": 1.7e9, "agent_name": "cat"});
    let event = json!({"event_type": "tool_call", "timestamp": 1.7e9, "event_id": "kept0",
        "session_id": "kept-earlier", "data": {"tool_name": "echo"}});
    let batch = spool.join("00000001700000000000000.k1.batch");
    std::fs::write(&batch, format!("{meta}\n{event}\n")).expect("plant the batch");
    batch
}

/// The sessions of `env`'s store (its `.spool` is none).
fn recorded_sessions(env: &Unprivileged) -> Vec<String> {
    let mut sessions = env.env.sessions();
    sessions.retain(|name| !name.starts_with('.'));
    sessions
}

/// The line a proxy's log says when its sending of what the store keeps gets no thread.
const SENDING_REFUSED: &str =
    "cannot start a thread to send what this store keeps for the collector";

/// A proxy whose store keeps a batch for the collector starts sending it only once the relay
/// has its threads and the server its process: under a limit that fits the proxy, its three
/// threads and the server, the server's answer is relayed and recorded, and the sending,
/// refused a thread, is said in the store's log and leaves the batch kept. The sending was
/// started first and took the server's process: the server ran unrecorded (with a policy, not
/// at all).
#[test]
fn record_sends_what_its_store_keeps_only_once_the_relay_has_what_it_needs() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    let batch = plant_kept_batch(&env);
    let mut cmd = env.unprivileged(&RECORD_ONE_ANSWER, &["prlimit", "--nproc=5", "--"]);
    cmd.env("AGENT_STRACE_ENDPOINT", silent_collector());
    let relayed = crate::common::run_with_stdin(cmd, PING);
    assert!(!relayed.stderr.contains("panicked"), "{}", relayed.stderr);
    assert_eq!(relayed.code, 0, "{}", relayed.stderr);
    assert_eq!(
        relayed.stdout, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
        "{}",
        relayed.stderr
    );
    assert!(!relayed.stderr.contains("unrecorded"), "{}", relayed.stderr);
    let sessions = recorded_sessions(&env);
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events = env.env.events(&sessions[0]);
    assert!(
        !events.iter().any(|e| e["event_type"] == "error"),
        "{events:#?}"
    );
    let log = std::fs::read_to_string(env.env.store().join("hook-errors.log")).unwrap_or_default();
    assert!(log.contains(SENDING_REFUSED), "{log}");
    assert!(batch.exists(), "the kept batch waits for the next sender");
}

/// `record-http` starts sending what its store keeps only once its recorder has its thread:
/// under a limit of one thread besides the proxy's own, what passes is recorded, and the
/// sending, refused a thread, is said in the store's log. The sending took the recorder's
/// thread, and the proxy served unrecorded.
#[test]
fn record_http_sends_what_its_store_keeps_only_once_its_recorder_has_its_thread() {
    let Some(env) = Unprivileged::new() else {
        return;
    };
    plant_kept_batch(&env);
    let mut cmd = env.unprivileged(
        &["record-http", "http://127.0.0.1:9/mcp", "--port", "0"],
        &["prlimit", "--nproc=2", "--"],
    );
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    cmd.env("AGENT_STRACE_ENDPOINT", silent_collector());
    let (proxy, _) = crate::common::net::spawn_proxy(cmd);
    let log = env.env.store().join("hook-errors.log");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log).is_ok_and(|log| log.contains(SENDING_REFUSED)) {
        assert!(
            started.elapsed() < crate::common::wait::HANG,
            "the refused sending is not said: {:?}",
            std::fs::read_to_string(&log)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(proxy.terminate(), Some(0));
    let sessions = recorded_sessions(&env);
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let events = env.env.events(&sessions[0]);
    assert!(
        !events.iter().any(|e| e["event_type"] == "error"),
        "the recorder had its thread: {events:#?}"
    );
}
