//! `watch` with real processes: a shell script plays an agent (it runs `agent-strace hook …`
//! with payloads shaped like Claude Code's, writes files and sleeps), and the watch pauses,
//! continues and kills it by its rules. The agent's state is read from the OS (`/proc`, its
//! exit status), never from what the watch says.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::wait::HANG;
use crate::common::{Run, TestEnv, bin};

pub(crate) const SESSION: &str = "5f0c2f4e-7a8b-4c1d-9e2f-0a1b2c3d4e5f";

/// The agent's script: `hook EVENT JSON` plays one hook as Claude Code runs it; `wait_for NAME`
/// waits (a minute at most) until the test makes file NAME, `watched` until a watch
/// [`start_watch`] started follows the session: what the agent does next is seen live however
/// slowly a loaded machine started the watch.
fn agent_script(env: &TestEnv, body: &str) -> PathBuf {
    let script = format!(
        r#"set -u
hook() {{ printf '%s' "$2" | "{bin}" hook "$1"; }}
start() {{ hook session-start '{{"session_id":"{SESSION}","transcript_path":"'"$1"'","cwd":"{cwd}","hook_event_name":"SessionStart","source":"startup","model":"claude-sonnet-4-5"}}'; }}
prompt() {{ hook user-prompt '{{"session_id":"{SESSION}","cwd":"{cwd}","hook_event_name":"UserPromptSubmit","prompt":"'"$1"'"}}'; }}
write() {{
  hook pre-tool '{{"session_id":"{SESSION}","cwd":"{cwd}","hook_event_name":"PreToolUse","tool_name":"Write","tool_use_id":"toolu_'"$2"'","tool_input":{{"file_path":"'"$1"'","content":"x"}}}}'
  printf 'x' > "$1"
  hook post-tool '{{"session_id":"{SESSION}","cwd":"{cwd}","hook_event_name":"PostToolUse","tool_name":"Write","tool_use_id":"toolu_'"$2"'","tool_input":{{"file_path":"'"$1"'","content":"x"}},"tool_response":{{"type":"create","filePath":"'"$1"'"}}}}'
}}
bash_call() {{
  hook pre-tool '{{"session_id":"{SESSION}","cwd":"{cwd}","hook_event_name":"PreToolUse","tool_name":"Bash","tool_use_id":"toolu_'"$2"'","tool_input":{{"command":"'"$1"'"}}}}'
}}
end() {{ hook session-end '{{"session_id":"{SESSION}","cwd":"{cwd}","hook_event_name":"SessionEnd","reason":"exit"}}'; }}
wait_for() {{ i=0; while [ ! -e '{cwd}/'"$1" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; }}
watched() {{ wait_for watching; }}
{body}
"#,
        bin = bin().display(),
        cwd = env.path().display(),
    );
    let path = env.path().join("agent.sh");
    std::fs::write(&path, script).unwrap();
    path
}

/// A command run in the environment as the test binary's commands are.
pub(crate) fn in_env(env: &TestEnv, program: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(env.path())
        .env_remove("AGENT_TRACE_DIR")
        .env_remove("CLAUDE_PROJECT_DIR")
        .env_remove("AGENT_STRACE_REDACT")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env("AGENT_STRACE_HOME", env.home.path())
        .stdin(Stdio::null());
    cmd
}

/// A process the test started, killed if the test fails before it ends.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }

    /// The process's state letter from `/proc` (`T` stopped), `None` once it has exited.
    pub(crate) fn state(&self) -> Option<char> {
        state_of(self.pid())
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < within,
                "process {} did not end",
                self.pid()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for a watch to end and returns what it did.
    fn finish(mut self, within: Duration) -> Run {
        let status = self.wait(within);
        let mut stdout = String::new();
        let mut stderr = String::new();
        if let Some(mut out) = self.0.stdout.take() {
            out.read_to_string(&mut stdout).unwrap();
        }
        if let Some(mut err) = self.0.stderr.take() {
            err.read_to_string(&mut stderr).unwrap();
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// The state letter of process `pid` from `/proc` (`T` stopped), `None` once it has exited.
fn state_of(pid: u32) -> Option<char> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = text[text.rfind(')')? + 1..].trim_start().chars().next()?;
    (state != 'Z').then_some(state)
}

#[track_caller]
fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

pub(crate) fn start_agent(env: &TestEnv, body: &str) -> Proc {
    let script = agent_script(env, body);
    let child = in_env(env, Path::new("bash"), &[script.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent = Proc(child);
    let events = env.store().join(SESSION).join("events.ndjson");
    wait_until("the agent's session starts", HANG, || {
        std::fs::read_to_string(&events).is_ok_and(|t| t.contains("session_start"))
    });
    agent
}

/// Waits until `watch` has paused `agent`, stops the watch (SIGTERM) and returns what it did.
pub(crate) fn stop_once_paused(agent: &Proc, watch: Proc) -> Run {
    wait_until("the agent is paused", HANG, || agent.state() == Some('T'));
    Command::new("kill")
        .args(["-TERM", &watch.pid().to_string()])
        .status()
        .unwrap();
    watch.finish(HANG)
}

/// Starts `watch` on [`SESSION`] and waits until it follows the session (it holds the events
/// file open) or has ended; then makes the file `watching` an agent's `watched` waits for.
fn start_watch(env: &TestEnv, args: &[&str]) -> Proc {
    start_watch_with(env, args, Stdio::piped())
}

/// [`start_watch`] with its stderr to `stderr` (a file the test reads while the watch runs).
fn start_watch_with(env: &TestEnv, args: &[&str], stderr: impl Into<Stdio>) -> Proc {
    let mut all = vec!["watch", SESSION];
    all.extend_from_slice(args);
    let child = in_env(env, &bin(), &all)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut watch = Proc(child);
    wait_until(
        "the watch follows the session",
        Duration::from_secs(60),
        || watch.0.try_wait().unwrap().is_some() || follows(watch.pid()),
    );
    std::fs::write(env.path().join("watching"), "").unwrap();
    watch
}

/// Whether process `pid` holds a session's events file open.
fn follows(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.filter_map(Result::ok)
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| target.ends_with("events.ndjson"))
    })
}

/// A watch started with [`start_watch_with`] whose stderr goes to a file, and that file.
fn start_watch_logged(env: &TestEnv, args: &[&str]) -> (Proc, PathBuf) {
    let log = env.path().join("watch.err");
    let file = std::fs::File::create(&log).unwrap();
    (start_watch_with(env, args, file), log)
}

/// A transcript whose one response cost $1.50 (100k output tokens of Sonnet 4.5).
fn costly_transcript(env: &TestEnv) -> PathBuf {
    let line = json!({
        "type": "assistant", "sessionId": SESSION, "requestId": "req_1", "uuid": "u1",
        "timestamp": "2026-11-30T05:00:00.000Z", "cwd": env.path(),
        "message": {"id": "msg_1", "model": "claude-sonnet-4-5", "role": "assistant", "type": "message",
            "content": [{"type": "text", "text": "Rewriting the deploy config now."}],
            "usage": {"input_tokens": 10, "output_tokens": 100_000}}
    });
    let path = env.path().join("transcript.jsonl");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    path
}

#[test]
fn the_hook_records_the_agents_pid_and_start_time() {
    let env = TestEnv::new();
    let mut agent = start_agent(&env, "start /nowhere\nend");
    let pid = agent.pid();
    assert!(agent.wait(HANG).success());
    let start = &env.events(SESSION)[0];
    assert_eq!(start["event_type"], "session_start");
    assert_eq!(start["data"]["agent_pid"], json!(pid));
    assert!(start["data"]["agent_started"].as_u64().unwrap() > 0);
}

#[test]
fn a_rule_pauses_the_agent_and_resume_continues_it() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "files_modified", "threshold": 3, "action": "pause"}]"#,
    )
    .unwrap();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nfor i in 1 2 3 4 5 6; do write {dir}/f$i.rs $i; sleep 0.3; done\ntouch {dir}/done\nend"
        ),
    );
    let watch = start_watch(&env, &["--rules", "rules.json"]);
    wait_until("the agent is paused", HANG, || agent.state() == Some('T'));
    // It stays paused: it never gets to the end of its work.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(agent.state(), Some('T'));
    assert!(!env.path().join("done").exists());
    let written = (1..=6)
        .filter(|i| env.path().join(format!("f{i}.rs")).exists())
        .count();
    // The third call is recorded before its file is written: the pause comes between them.
    assert!((2..=4).contains(&written), "{written} files written");

    let resumed = env.run(&["watch", SESSION, "--resume"]);
    resumed.success();
    assert!(resumed.stderr.contains("continued"), "{}", resumed.stderr);
    let status = agent.wait(HANG);
    assert!(status.success());
    assert!(env.path().join("done").exists());
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "a rule broke: {}", run.stderr);
    assert!(run.stderr.contains("PAUSE"), "{}", run.stderr);
    // The events were shown as they came, as replay shows them.
    assert!(run.stdout.contains("Write"), "{}", run.stdout);
}

#[test]
fn a_stopped_watch_continues_the_agent_it_paused() {
    let env = TestEnv::new();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nfor i in 1 2 3; do write {dir}/f$i.rs $i; sleep 0.3; done\nwait_for paused\nend"
        ),
    );
    let watch = start_watch(&env, &["--on-violation", "pause", "--timeout", "1s"]);
    let run = stop_once_paused(&agent, watch);
    assert!(run.stderr.contains("continued the agent"), "{}", run.stderr);
    assert_ne!(agent.state(), Some('T'));
    std::fs::write(env.path().join("paused"), "").unwrap();
    assert!(agent.wait(HANG).success());
}

#[test]
fn a_budget_kills_the_agent_and_writes_its_post_mortem() {
    let env = TestEnv::new();
    let costly = costly_transcript(&env);
    let transcript = env.path().join("live.jsonl");
    let dir = env.path().display().to_string();
    // The agent ignores SIGTERM, so only SIGKILL 5 s later ends it. Its transcript gets the
    // costly response once it has made its calls.
    let mut agent = start_agent(
        &env,
        &format!(
            "trap '' TERM\n: > {t}\nstart {t}\nprompt 'deploy it'\nwatched\nwrite {dir}/deploy.yaml 1\nbash_call 'kubectl apply -f deploy.yaml' 2\ncat {c} >> {t}\nfor i in $(seq 1 300); do sleep 0.1; done\nend",
            t = transcript.display(),
            c = costly.display()
        ),
    );
    let copied = env.path().join("copied.json");
    let on_death = format!("cp {{post_mortem_path}} '{}'", copied.display());
    let watch = start_watch(
        &env,
        &[
            "--budget",
            "0.50",
            "--on-violation",
            "kill",
            "--on-death",
            &on_death,
        ],
    );
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(9), "ended by SIGKILL: {status:?}");
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let path = env.store().join(SESSION).join("watchdog-postmortem.json");
    let pm: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(pm["session_id"], SESSION);
    assert_eq!(pm["signal"], "SIGKILL");
    assert_eq!(pm["agent_pid"], json!(agent.pid()));
    assert!(
        (pm["cost_at_death"].as_f64().unwrap() - 1.5).abs() < 0.01,
        "{pm}"
    );
    assert_eq!(pm["cost_unpriced_models"], json!([]), "{pm}");
    assert!(pm["elapsed_seconds"].as_f64().unwrap() >= 0.0);
    assert!(pm["reason"].as_str().unwrap().contains("budget"), "{pm}");
    assert_eq!(pm["last_tool_call"]["tool_name"], "Bash");
    assert_eq!(
        pm["last_tool_call"]["arguments"]["command"],
        "kubectl apply -f deploy.yaml"
    );
    assert_eq!(pm["last_llm_response"]["model"], "claude-sonnet-4-5");
    let recovery = pm["recovery_context"].as_str().unwrap();
    assert!(recovery.contains("kubectl apply"), "{recovery}");
    assert!(recovery.contains("deploy.yaml"), "{recovery}");
    // --on-death ran with the path as one argument.
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&copied).unwrap()).unwrap();
    assert_eq!(copy, pm);
}

/// One response of `model` with `output` tokens, as a transcript line of session [`SESSION`]
/// (written by a subagent, `agent`, when given).
fn response_line(env: &TestEnv, id: &str, model: &str, output: u64, agent: Option<&str>) -> String {
    let mut line = json!({
        "type": "assistant", "sessionId": SESSION, "requestId": format!("req_{id}"),
        "uuid": format!("u_{id}"), "timestamp": "2026-11-30T05:00:00.000Z", "cwd": env.path(),
        "message": {"id": format!("msg_{id}"), "model": model, "role": "assistant",
            "type": "message", "content": [{"type": "text", "text": "Reading the code."}],
            "usage": {"input_tokens": 10, "output_tokens": output}}
    });
    if let Some(agent) = agent {
        line["isSidechain"] = json!(true);
        line["agentId"] = json!(agent);
    }
    format!("{line}\n")
}

/// A hook session's cost counts its subagents' transcripts (`<stem>/subagents/*.jsonl`), but
/// the watch read the usage again only when the main transcript grew: while a subagent worked
/// (its own transcript growing, the main one quiet until it is done) its spend went unseen,
/// and the budget broke at the main transcript's next write, minutes late, or never. A
/// subagent's transcript growing is read as the main one's is, within the watch's poll.
#[test]
fn a_budget_kills_the_agent_while_only_a_subagents_transcript_grows() {
    let env = TestEnv::new();
    let transcript = env.path().join("live.jsonl");
    // $0.015 of the main conversation: under the budget, past the alert that tells the test
    // the watch has read the transcript.
    let main_line = response_line(&env, "main", "claude-sonnet-4-5", 1000, None);
    std::fs::write(&transcript, main_line).unwrap();
    let subagents = env.path().join("live").join("subagents");
    std::fs::create_dir_all(&subagents).unwrap();
    let subagent = subagents.join("agent-a1b2c3d4.jsonl");
    std::fs::write(&subagent, "").unwrap();
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "cost_usd", "threshold": 0.01, "action": "alert"}]"#,
    )
    .unwrap();
    // Nothing more is written to the events file or the main transcript: the agent waits for
    // its subagent for two minutes.
    let mut agent = start_agent(
        &env,
        &format!(
            "start {t}\nprompt 'review it'\nwatched\nfor i in $(seq 1 1200); do sleep 0.1; done\nend",
            t = transcript.display()
        ),
    );
    let (watch, errors) = start_watch_logged(
        &env,
        &[
            "--rules",
            "rules.json",
            "--budget",
            "0.50",
            "--on-violation",
            "kill",
        ],
    );
    wait_until("the watch has read the transcript", HANG, || {
        std::fs::read_to_string(&errors).is_ok_and(|t| t.contains("ALERT"))
    });
    // The subagent's response: $1.50.
    let costly = response_line(&env, "sub", "claude-sonnet-4-5", 100_000, Some("a1b2c3d4"));
    std::fs::write(&subagent, costly).unwrap();
    wait_until("the watch kills the agent", Duration::from_secs(30), || {
        agent.0.try_wait().unwrap().is_some()
    });
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(run.code, 1, "{stderr}");
    assert!(stderr.contains("KILL rule `budget "), "{stderr}");
    let pm: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(SESSION).join("watchdog-postmortem.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        (pm["cost_at_death"].as_f64().unwrap() - 1.515).abs() < 0.001,
        "{pm}"
    );
}

/// The post-mortem carried a cost and no word that a model in it had no price: it now lists
/// such models, as every other JSON cost does, and its recovery paragraph marks the cost.
#[test]
fn a_post_mortem_names_the_models_its_cost_counts_at_zero() {
    let env = TestEnv::new();
    let costly = costly_transcript(&env);
    let mystery = json!({
        "type": "assistant", "sessionId": SESSION, "requestId": "req_2", "uuid": "u2",
        "timestamp": "2026-11-30T05:00:01.000Z", "cwd": env.path(),
        "message": {"id": "msg_2", "model": "mystery-model-9", "role": "assistant", "type": "message",
            "content": [{"type": "text", "text": "Done."}],
            "usage": {"input_tokens": 10, "output_tokens": 50_000}}
    });
    std::fs::write(
        env.path().join("mystery.jsonl"),
        format!("{}{mystery}\n", std::fs::read_to_string(&costly).unwrap()),
    )
    .unwrap();
    let transcript = env.path().join("live.jsonl");
    let mut agent = start_agent(
        &env,
        &format!(
            ": > {t}\nstart {t}\nprompt 'deploy it'\nwatched\ncat {c} >> {t}\nfor i in $(seq 1 300); do sleep 0.1; done\nend",
            t = transcript.display(),
            c = env.path().join("mystery.jsonl").display()
        ),
    );
    let watch = start_watch(&env, &["--budget", "0.50", "--on-violation", "kill"]);
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let pm: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(SESSION).join("watchdog-postmortem.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pm["cost_unpriced_models"],
        json!(["mystery-model-9"]),
        "{pm}"
    );
    assert!(
        (pm["cost_at_death"].as_f64().unwrap() - 1.5).abs() < 0.01,
        "{pm}"
    );
    let recovery = pm["recovery_context"].as_str().unwrap();
    assert!(
        recovery.contains("($1.50? spent, mystery-model-9 counted at $0: no known price)"),
        "{recovery}"
    );
}

#[test]
fn a_path_rule_kills_with_sigterm_when_the_agent_obeys_it() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join("rules.json"),
        r#"{"rules": [{"name": "no prod", "condition": "file_path matches \"**/production.env\"", "action": "kill"}]}"#,
    )
    .unwrap();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nwrite {dir}/production.env 1\nfor i in $(seq 1 300); do sleep 0.1; done\nend"
        ),
    );
    let watch = start_watch(&env, &["--rules", "rules.json"]);
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    assert!(run.stderr.contains("no prod"), "{}", run.stderr);
    let pm: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(SESSION).join("watchdog-postmortem.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pm["signal"], "SIGTERM");
    assert_eq!(pm["rule"], "no prod");
}

#[test]
fn a_dry_run_says_what_it_would_do_and_does_nothing() {
    let env = TestEnv::new();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!("start /nowhere\nwatched\nwrite {dir}/a.rs 1\nwait_for judged\nend"),
    );
    let (watch, log) = start_watch_logged(
        &env,
        &["--timeout", "1s", "--on-violation", "kill", "--dry-run"],
    );
    // The agent ends once the watch has judged it, however slowly the watch runs.
    wait_until("the watch judges the agent", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|said| said.contains("would kill"))
    });
    std::fs::write(env.path().join("judged"), "").unwrap();
    assert!(agent.wait(HANG).success());
    let mut run = watch.finish(HANG);
    run.stderr = std::fs::read_to_string(&log).unwrap();
    assert!(run.stderr.contains("would kill"), "{}", run.stderr);
    // The session started before the watch: its start, read first, names the agent (the
    // watch said "no agent process recorded: rules can only alert", then killed it).
    assert!(
        run.stderr
            .contains(&format!("(agent pid {}) [dry run]", agent.pid())),
        "{}",
        run.stderr
    );
    assert!(
        !env.store()
            .join(SESSION)
            .join("watchdog-postmortem.json")
            .exists()
    );
}

#[test]
fn a_reused_pid_is_never_signalled() {
    let env = TestEnv::new();
    // A live process under the recorded pid, but not the one that started then.
    let bystander = Proc(Command::new("sleep").arg("30").spawn().unwrap());
    let started = crate::common::process_started(bystander.pid());
    let start =
        json!({"session_id": SESSION, "hook_event_name": "SessionStart", "source": "startup"});
    env.hook("session-start", &start).success();
    // The start recorded the test's own pid; point it at the bystander with another start time.
    let events = env.store().join(SESSION).join("events.ndjson");
    record_process(&events, bystander.pid(), started + 7);
    let run = start_watch(&env, &["--timeout", "1s", "--on-violation", "kill"]).finish(HANG);
    assert!(run.stderr.contains("has exited"), "{}", run.stderr);
    assert_eq!(
        bystander.state().map(|s| s != 'T'),
        Some(true),
        "the bystander lives on"
    );
}

/// Records [`SESSION`]'s start through the hook, then takes the agent's process out of it, as
/// a session imported or recorded elsewhere has none: a watch then has nothing to signal.
fn session_with_no_process(env: &TestEnv) {
    session_with_no_process_and(env, json!({}));
}

/// [`session_with_no_process`] whose start payload also holds the fields of `more`.
fn session_with_no_process_and(env: &TestEnv, more: Value) {
    let mut start =
        json!({"session_id": SESSION, "hook_event_name": "SessionStart", "source": "startup"});
    start
        .as_object_mut()
        .unwrap()
        .extend(more.as_object().unwrap().clone());
    env.hook("session-start", &start).success();
    let events = env.store().join(SESSION).join("events.ndjson");
    let mut first: Value =
        serde_json::from_str(std::fs::read_to_string(&events).unwrap().trim()).unwrap();
    let data = first["data"].as_object_mut().unwrap();
    data.remove("agent_pid");
    data.remove("agent_started");
    std::fs::write(&events, format!("{first}\n")).unwrap();
}

/// Starts `watch SESSION ARGS` with its stderr written to a file, and waits until it has read
/// the session (its header line): the watch and that file.
fn watch_read_the_session(env: &TestEnv, args: &[&str], stdout: Stdio) -> (Proc, PathBuf) {
    let errors = env.path().join("watch.err");
    let mut all = vec!["watch", SESSION];
    all.extend_from_slice(args);
    let watch = Proc(
        in_env(env, &bin(), &all)
            .stdout(stdout)
            .stderr(std::fs::File::create(&errors).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_until("the watch has read the session", HANG, || {
        std::fs::read_to_string(&errors).is_ok_and(|t| t.contains("watch: session"))
    });
    (watch, errors)
}

/// [`SESSION`]'s events file.
fn events_file(env: &TestEnv) -> PathBuf {
    env.store().join(SESSION).join("events.ndjson")
}

/// Cuts [`SESSION`]'s events file in place to its first `len` bytes (`truncate -s`; no writer
/// of ours does that).
fn cut_events(env: &TestEnv, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(events_file(env))
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Grows [`SESSION`]'s events file by a hole of `bytes` (zeros never written, as one
/// `truncate` makes).
fn grow_by_hole(env: &TestEnv, bytes: u64) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(events_file(env))
        .unwrap();
    file.set_len(file.metadata().unwrap().len() + bytes)
        .unwrap();
}

/// Plays a user's prompt into [`SESSION`] through the hook.
fn prompt(env: &TestEnv, text: &str) {
    let payload =
        json!({"session_id": SESSION, "hook_event_name": "UserPromptSubmit", "prompt": text});
    env.hook("user-prompt", &payload).success();
}

/// A session with no agent process recorded (its hooks ran elsewhere) and no end: nothing tells
/// the watch it is over, so it stops once it has seen no new event for --idle, and says so. It
/// ran until killed: a broken --timeout only alerts when there is no process to act on.
#[test]
fn a_watch_of_a_session_with_no_process_stops_when_it_stays_idle() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let began = Instant::now();
    let watch = start_watch(&env, &["--timeout", "1s", "--idle", "3s"]);
    // An event on the way puts the stop off.
    std::thread::sleep(Duration::from_millis(1500));
    let prompt =
        json!({"session_id": SESSION, "hook_event_name": "UserPromptSubmit", "prompt": "go on"});
    env.hook("user-prompt", &prompt).success();
    let run = watch.finish(HANG);
    assert!(began.elapsed() >= Duration::from_millis(4400), "{run:?}");
    assert_eq!(run.code, 1, "the timeout broke: {run:?}");
    assert!(run.stdout.contains("go on"), "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "watch: no new event for 3s and no agent process recorded to tell whether it runs; stopped"
        ),
        "{}",
        run.stderr
    );
}

/// A watch counted time from the start `meta.json` records, however impossible: a start in the
/// year -17678 broke a 60-minute limit at once (and would have killed the agent). It counts
/// from the first event for such a start, and warns of it once.
#[test]
fn a_start_no_session_can_have_breaks_no_time_limit() {
    let env = TestEnv::new();
    // No process to signal: the watch stops when the session stays idle.
    session_with_no_process(&env);
    let meta = env.store().join(SESSION).join("meta.json");
    let mut forged: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
    forged["started_at"] = json!(-620_000_000_000.0);
    std::fs::write(&meta, forged.to_string()).unwrap();
    let run = start_watch(&env, &["--timeout", "60m", "--idle", "1s"]).finish(HANG);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("broke"), "{}", run.stderr);
    assert!(!run.stdout.contains("17678"), "{}", run.stdout);
    assert_eq!(
        run.stderr.matches("holds what no session can").count(),
        1,
        "{}",
        run.stderr
    );
}

/// A watch of a session that has ended measured its time from its start to the watch's now:
/// a corpus session of 5.63 s, imported and watched with `--timeout 1h`, broke the limit at
/// 432,048.6 min and exited 1. An ended session lasted its end less its start, as `list`
/// says.
#[test]
fn an_ended_session_lasted_until_its_end() {
    let env = TestEnv::new();
    let log = crate::common::shared().join("corpus/claude-code/marot__spotter/short.jsonl");
    env.run(&["import", log.to_str().unwrap()]).success();
    let run = env.run(&["watch", "--timeout", "1h"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stderr.contains("broke"), "{}", run.stderr);
}

/// Points the first event of `events` (a hook's session start) at process `pid`, started at
/// `started`, as if the hook had recorded it.
fn record_process(events: &std::path::Path, pid: u32, started: u64) {
    let mut first: Value = serde_json::from_str(
        std::fs::read_to_string(events)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    first["data"]["agent_pid"] = json!(pid);
    first["data"]["agent_started"] = json!(started);
    std::fs::write(events, format!("{first}\n")).unwrap();
}

/// Whoever can write a session's events could name any process in them, and a watch run as
/// root would kill it: a recorded process is signalled only when it runs as the user who owns
/// the session's events.
#[test]
fn a_process_of_another_user_than_the_sessions_is_never_signalled() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let start =
        json!({"session_id": SESSION, "hook_event_name": "SessionStart", "source": "startup"});
    env.hook("session-start", &start).success();
    let events = env.store().join(SESSION).join("events.ndjson");
    let me = std::fs::metadata(&events).unwrap().uid();
    // As root, a bystander of root's and the session's events given to another user; as
    // anyone else, init, which is root's.
    let bystander = (me == 0).then(|| Proc(Command::new("sleep").arg("30").spawn().unwrap()));
    let pid = bystander.as_ref().map_or(1, Proc::pid);
    record_process(&events, pid, crate::common::process_started(pid));
    if me == 0 {
        std::os::unix::fs::chown(&events, Some(54_321), None).unwrap();
    }
    let (watch, log) = start_watch_logged(&env, &["--timeout", "1s", "--on-violation", "kill"]);
    // With no process to signal, the watch follows the session to its end: it ends once the
    // time limit has broken, however slowly the watch runs.
    wait_until("the time limit breaks", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|said| said.contains("broke"))
    });
    let end = json!({"session_id": SESSION, "hook_event_name": "SessionEnd", "reason": "exit"});
    env.hook("session-end", &end).success();
    let mut run = watch.finish(HANG);
    run.stderr = std::fs::read_to_string(&log).unwrap();
    // Said once: the session's start is read before the watch begins and again as its first
    // event, and the warning came twice.
    assert_eq!(
        run.stderr
            .matches(&format!(
                "(pid {pid}) runs as user 0, not as the user who recorded the session"
            ))
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no agent process recorded"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("KILL"), "{}", run.stderr);
    // A limit under a minute reads in seconds: it read `(duration_minutes >=
    // 0.016666666666666666)`.
    assert!(
        run.stderr
            .contains("rule `timeout 1s` broke: duration_minutes is ")
            && run.stderr.contains(" s (>= 1 s)"),
        "{}",
        run.stderr
    );
    if let Some(bystander) = &bystander {
        assert_eq!(
            bystander.state().map(|s| s != 'T'),
            Some(true),
            "the bystander lives on"
        );
    }
}

/// A process is signalled only while it runs as the user who recorded the session: one that
/// became another user's after the watch took it from the session (it ran a set-user-id
/// program in its place, under the same pid and start time) was killed by a watch run as root,
/// since its user was looked at once, when the session named it. As anyone else, the kernel
/// refuses such a signal anyway, and the test needs root to change a process's user.
#[test]
fn a_process_that_became_another_users_is_never_signalled() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    let start =
        json!({"session_id": SESSION, "hook_event_name": "SessionStart", "source": "startup"});
    env.hook("session-start", &start).success();
    let events = env.store().join(SESSION).join("events.ndjson");
    if std::fs::metadata(&events).unwrap().uid() != 0 {
        return;
    }
    std::fs::write(
        env.path().join("rules.json"),
        r#"{"rules": [{"name": "no prod", "condition": "file_path matches \"**/production.env\"", "action": "kill"}]}"#,
    )
    .unwrap();
    // Root's until it reads a line, then user 54321's, under the same pid.
    let mut agent = Command::new("sh")
        .args([
            "-c",
            "read go; exec setpriv --reuid=54321 --regid=54321 --clear-groups sleep 30",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = agent.id();
    record_process(&events, pid, crate::common::process_started(pid));
    let mut input = agent.stdin.take().unwrap();
    let agent = Proc(agent);
    let errors = env.path().join("watch.err");
    let watch = Proc(
        in_env(
            &env,
            &bin(),
            &["watch", SESSION, "--rules", "rules.json", "--idle", "3s"],
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errors).unwrap())
        .spawn()
        .unwrap(),
    );
    wait_until("the watch has taken the process", HANG, || {
        std::fs::read_to_string(&errors).is_ok_and(|t| t.contains(&format!("(agent pid {pid})")))
    });
    input.write_all(b"go\n").unwrap();
    wait_until("the process is user 54321's", HANG, || {
        std::fs::metadata(format!("/proc/{pid}")).is_ok_and(|m| m.uid() == 54_321)
    });
    let write = json!({"session_id": SESSION, "hook_event_name": "PreToolUse", "tool_name": "Write",
        "tool_use_id": "toolu_1", "tool_input": {"file_path": "production.env", "content": "x"}});
    env.hook("pre-tool", &write).success();
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(run.code, 1, "the rule broke: {stderr}");
    assert!(
        stderr.contains(&format!(
            "(pid {pid}) runs as user 54321, not as the user who recorded the session"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("KILL"), "{stderr}");
    assert_eq!(
        agent.state().map(|s| s != 'T'),
        Some(true),
        "the process lives on"
    );
}

/// Whoever writes a session's events can name any process of the user's in them: a forged
/// `session_start` naming the shell the watch runs in had the watch pause it (or kill it, and
/// the terminal with it). The watch's own ancestors, itself and init are never signalled.
#[test]
fn the_shell_a_watch_runs_in_is_never_signalled_whatever_the_session_says() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let events = env.store().join(SESSION).join("events.ndjson");
    // The shell waits for a line before it starts the watch, so that its pid can be recorded
    // first.
    let script = format!(
        "read go; \"{}\" watch {SESSION} --timeout 1s --on-violation pause --idle 3s",
        bin().display()
    );
    let mut shell = in_env(&env, Path::new("sh"), &["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    record_process(
        &events,
        shell.id(),
        crate::common::process_started(shell.id()),
    );
    shell.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let run = Proc(shell).finish(HANG);
    assert_eq!(
        run.stderr
            .matches("is an ancestor of this watch (the shell or terminal it runs in): it will not be signalled")
            .count(),
        1,
        "said once: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("PAUSE"), "{}", run.stderr);
    assert_eq!(run.code, 1, "the timeout broke and only alerted: {run:?}");
}

/// An events file cut in place (`: > events.ndjson`; no writer of ours does that) was read on
/// from where the watch had got to: what the hooks wrote next went unseen until the file was
/// as long again, and then was read from mid-line, so a rule never saw those calls. The watch
/// reads it again from its start, and says so.
#[test]
fn a_watch_reads_an_events_file_cut_in_place_again_from_its_start() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    // Longer before the cut than after it, whenever the watch looks.
    for n in 0..5 {
        prompt(&env, &format!("before the cut {n}"));
    }
    let (watch, errors) = watch_read_the_session(&env, &["--idle", "3s"], Stdio::piped());
    cut_events(&env, 0);
    prompt(&env, "after the cut");
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert!(
        run.stdout.contains("after the cut"),
        "{}\n{stderr}",
        run.stdout
    );
    assert!(
        stderr.contains("the session's events file was cut in place"),
        "{stderr}"
    );
}

/// An events file that grew by hundreds of megabytes at once (a hole one `truncate` makes)
/// was read whole into memory: under a 384 MiB address space the watch aborted (a memory
/// allocation failed), and a larger hole took what memory the machine had. It is read a chunk at a time:
/// the line too long is skipped, and the event after it shown.
#[test]
fn a_watch_reads_an_events_file_that_grew_by_hundreds_of_megabytes_in_bounded_memory() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    grow_by_hole(&env, 300 * 1024 * 1024);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(events_file(&env))
        .unwrap();
    let after = json!({"event_type": "user_prompt", "timestamp": 1_796_248_340.0,
        "event_id": "b0b0b0b0b0b0", "session_id": SESSION, "data": {"prompt": "after the hole"}});
    writeln!(file, "\n{after}").unwrap();
    drop(file);
    let output = in_env(
        &env,
        Path::new("sh"),
        &[
            "-c",
            "ulimit -v 393216 && exec \"$0\" \"$@\"",
            bin().to_str().unwrap(),
            "watch",
            SESSION,
            "--idle",
            "1s",
        ],
    )
    .output()
    .unwrap();
    let run = Run::of(output);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("after the hole"), "{}", run.stdout);
    assert!(
        run.stderr.contains("line longer than 64 MiB"),
        "{}",
        run.stderr
    );
}

/// An events file that grew by a long hole (a `truncate` to a terabyte more) before its last
/// event was read through, zeros and all, before the watch showed anything: it said nothing for
/// hours, and `list` too. All of a hole but what makes its line too long is passed over.
#[test]
fn a_watch_of_an_events_file_with_a_long_hole_shows_what_follows_it_at_once() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    grow_by_hole(&env, 1 << 40);
    let after = json!({"event_type": "user_prompt", "timestamp": 1_796_248_340.0,
        "event_id": "b0b0b0b0b0b0", "session_id": SESSION, "data": {"prompt": "after the hole"}});
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(events_file(&env))
        .unwrap();
    writeln!(file, "\n{after}").unwrap();
    drop(file);
    let run = start_watch(&env, &["--idle", "1s"]).finish(Duration::from_secs(60));
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("after the hole"), "{}", run.stdout);
    assert!(
        run.stderr.contains("line longer than 64 MiB"),
        "{}",
        run.stderr
    );
    let listed = env.run(&["list", "--format", "json"]).json();
    assert_eq!(listed[0]["first_prompt"], "after the hole", "{listed}");
}

/// A watch reads a long file a batch at a time, and --idle took the reading for silence: when
/// the batches of a long hole took longer than --idle to read (a loaded machine, --idle 1s),
/// the watch stopped before the event after the hole, never shown. --idle counts from when the
/// watch has read to the file's end.
#[test]
fn a_watch_is_not_idle_while_it_reads_what_was_written() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    grow_by_hole(&env, 1 << 40);
    let after = json!({"event_type": "user_prompt", "timestamp": 1_796_248_340.0,
        "event_id": "b0b0b0b0b0b0", "session_id": SESSION, "data": {"prompt": "after the hole"}});
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(events_file(&env))
        .unwrap();
    writeln!(file, "\n{after}").unwrap();
    drop(file);
    // Far shorter than any read of a batch: every batch of the hole outlasts it.
    let run = start_watch(&env, &["--idle", "1ms"]).finish(HANG);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("after the hole"), "{run:?}");
    assert!(
        run.stderr.contains("no new event for 1ms"),
        "{}",
        run.stderr
    );
}

/// Stops process `pid` (SIGSTOP) while it sleeps in `ppoll`, as a watch does between two
/// looks, so that a change made before it is continued falls between two looks.
fn stop_between_looks(pid: u32) {
    // The number of `ppoll`; elsewhere any point will do.
    let ppoll = if cfg!(target_arch = "x86_64") {
        Some("271")
    } else if cfg!(target_arch = "aarch64") {
        Some("73")
    } else {
        None
    };
    let signal = |name: &str| {
        Command::new("kill")
            .args([name, &pid.to_string()])
            .status()
            .unwrap();
    };
    let state = || {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        text[text.rfind(')').unwrap() + 1..]
            .trim_start()
            .chars()
            .next()
    };
    for _ in 0..200 {
        signal("-STOP");
        wait_until("the watch is stopped", HANG, || state() == Some('T'));
        let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        if ppoll.is_none_or(|n| call.split_whitespace().next() == Some(n)) {
            return;
        }
        signal("-CONT");
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process {pid} was never stopped in ppoll");
}

/// An events file cut in place and written again past the length the watch had read, between
/// two of its looks, was read on from where the watch had got to: from mid-line (a damaged line)
/// and past the first events written after the cut, which no rule saw. The watch sees that what
/// it read is not there any more, reads the file again from its start, and says so.
#[test]
fn a_watch_reads_an_events_file_cut_and_grown_again_between_two_looks_from_its_start() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    for n in 0..5 {
        prompt(&env, &format!("before the cut {n}"));
    }
    let (watch, errors) = watch_read_the_session(&env, &["--idle", "3s"], Stdio::piped());
    let events = events_file(&env);
    let read = std::fs::metadata(&events).unwrap().len();
    stop_between_looks(watch.pid());
    cut_events(&env, 0);
    let mut written = 0;
    while std::fs::metadata(&events).unwrap().len() <= read {
        prompt(&env, &format!("after the cut, a longer prompt {written}"));
        written += 1;
    }
    Command::new("kill")
        .args(["-CONT", &watch.pid().to_string()])
        .status()
        .unwrap();
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    for n in 0..written {
        assert!(
            run.stdout
                .contains(&format!("after the cut, a longer prompt {n}")),
            "{}\n{stderr}",
            run.stdout
        );
    }
    assert!(
        stderr.contains("the session's events file was cut in place"),
        "{stderr}"
    );
    assert!(!stderr.contains("events.ndjson:"), "{stderr}");
}

/// The session's agent about to run `echo call <n>`, as its pre-tool hook records it.
fn hook_echo_call(env: &TestEnv, n: u32) {
    let payload = json!({"session_id": SESSION, "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_use_id": format!("toolu_{n}"),
        "tool_input": {"command": format!("echo call {n}")}});
    env.hook("pre-tool", &payload).success();
}

/// An events file cut in place to part of what it held was read again from its start, and the
/// events it still held from before the cut were shown and counted again: a rule of at most 4
/// tool calls broke with 4 calls made, the 2 the cut file still held counted twice. What was
/// seen before is passed over.
#[test]
fn a_watch_counts_the_events_a_cut_file_still_holds_once() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let call = |n: u32| hook_echo_call(&env, n);
    call(0);
    call(1);
    let kept = std::fs::metadata(events_file(&env)).unwrap().len();
    call(2);
    let rules = env.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"condition": "tool_calls > 4", "action": "alert"}]"#,
    )
    .unwrap();
    let (watch, errors) = watch_read_the_session(
        &env,
        &["--idle", "3s", "--rules", rules.to_str().unwrap()],
        Stdio::piped(),
    );
    cut_events(&env, kept);
    call(3);
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert!(
        stderr.contains("the session's events file was cut in place"),
        "{stderr}"
    );
    assert!(!stderr.contains("broke"), "{stderr}");
    assert_eq!(run.code, 0, "{stderr}");
    for n in 0..4 {
        assert_eq!(
            run.stdout.matches(&format!("echo call {n}")).count(),
            1,
            "{}",
            run.stdout
        );
    }
}

/// How much a process has read so far (`rchar` of `/proc/<pid>/io`).
fn bytes_read(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("rchar: ").and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// An events file that grew by a long hole (a `truncate` to a terabyte more: zeros, read in
/// hours) held the watch in its read: Ctrl-C and SIGTERM were heeded only once the read
/// ended. The watch heeds them between two chunks, and says it stopped.
#[test]
fn a_watch_reading_a_long_hole_stops_when_asked() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let (watch, errors) = watch_read_the_session(&env, &["--idle", "10m"], Stdio::null());
    let before = bytes_read(watch.pid());
    grow_by_hole(&env, 1 << 40);
    wait_until("the watch reads the hole", Duration::from_secs(60), || {
        bytes_read(watch.pid()) > before + (64 << 20)
    });
    Command::new("kill")
        .args(["-TERM", &watch.pid().to_string()])
        .status()
        .unwrap();
    let run = watch.finish(Duration::from_secs(60));
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(run.code, 0, "{stderr}");
    assert!(
        stderr.contains("watch: stopped; the agent goes on"),
        "{stderr}"
    );
}

/// Claude Code's `--resume` goes on under the session's id after its `session_end`: a watch
/// of the resumed session stopped at the end it found in the session's past, at once, its
/// rules never judged. A session is over only while its end is its last event.
#[test]
fn a_watch_of_a_session_resumed_after_its_end_follows_it() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let hook = |event: &str, payload: Value| {
        env.hook(event, &payload).success();
    };
    hook(
        "session-end",
        json!({"session_id": SESSION, "hook_event_name": "SessionEnd", "reason": "exit"}),
    );
    hook(
        "session-start",
        json!({"session_id": SESSION, "hook_event_name": "SessionStart", "source": "resume"}),
    );
    hook(
        "user-prompt",
        json!({"session_id": SESSION, "hook_event_name": "UserPromptSubmit", "prompt": "go on"}),
    );
    // Only alerts: the resumed start names this test's process (the hooks' parent).
    let run = start_watch(&env, &["--timeout", "1s", "--idle", "3s"]).finish(HANG);
    assert_eq!(run.code, 1, "the timeout broke: {run:?}");
    assert!(
        run.stderr.contains("ALERT rule `timeout 1s` broke"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("no new event for 3s"), "{}", run.stderr);
}

/// A local HTTP endpoint that keeps every POST body.
fn listener() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(n) = lower.strip_prefix("content-length:") {
                    length = n.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    kept.lock().unwrap().push(String::from_utf8(body).unwrap());
                    let mut out = &stream;
                    let _ = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                    length = 0;
                }
            }
        }
    });
    (port, bodies)
}

#[test]
fn stream_to_posts_every_event_as_ndjson_batches() {
    let env = TestEnv::new();
    let mut agent = start_agent(
        &env,
        "start /nowhere\nprompt one\nprompt two\nprompt three\nend",
    );
    assert!(agent.wait(HANG).success());
    let (port, bodies) = listener();
    let url = format!("http://127.0.0.1:{port}/events");
    let run = start_watch(&env, &["--stream-to", &url, "--stream-batch-size", "2"]).finish(HANG);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let bodies = bodies.lock().unwrap().clone();
    let lines: Vec<Value> = bodies
        .iter()
        .flat_map(|b| {
            b.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect();
    let stored = env.events(SESSION);
    assert_eq!(lines, stored);
    assert!(bodies.iter().all(|b| b.lines().count() <= 2));
    assert!(bodies.len() >= 3);
}

#[test]
fn a_dead_stream_endpoint_never_stops_the_watch() {
    let env = TestEnv::new();
    let mut agent = start_agent(&env, "start /nowhere\nprompt one\nend");
    assert!(agent.wait(HANG).success());
    let nobody = crate::common::net::NobodyListens::new();
    let url = format!("{}/events", nobody.url());
    let run = start_watch(&env, &["--stream-to", &url]).finish(HANG);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("not delivered"), "{}", run.stderr);
    assert!(run.stdout.contains("one"), "{}", run.stdout);
}

#[test]
fn a_rules_file_that_names_an_unknown_condition_is_refused_with_its_line_and_key() {
    let env = TestEnv::new();
    env.hook(
        "session-start",
        &json!({"session_id": SESSION, "hook_event_name": "SessionStart"}),
    )
    .success();
    std::fs::write(
        env.path().join("rules.json"),
        "[\n  {\"condition\": \"cost_usd\", \"threshold\": 1, \"action\": \"kill\"},\n  {\"condition\": \"cost_dollars\", \"threshold\": 1}\n]\n",
    )
    .unwrap();
    let run = env.run(&["watch", SESSION, "--rules", "rules.json"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("rules.json:3"), "{}", run.stderr);
    assert!(run.stderr.contains("[1]"), "{}", run.stderr);
    assert!(run.stderr.contains("cost_dollars"), "{}", run.stderr);
    for (text, wanted) in [
        (
            "[{\"condition\": \"cost_usd\", \"treshold\": 1}]",
            "treshold",
        ),
        ("[{\"condition\": \"tool_calls\"}]", "threshold"),
        (
            "[{\"condition\": \"cost_usd\", \"threshold\": 1, \"action\": \"explode\"}]",
            "explode",
        ),
        ("[]", "no rule"),
        ("{\"rules\": [", "rules.json:1"),
    ] {
        std::fs::write(env.path().join("rules.json"), text).unwrap();
        let run = env.run(&["watch", SESSION, "--rules", "rules.json"]);
        assert_eq!(run.code, 3, "{text}: {}", run.stderr);
        assert!(run.stderr.contains(wanted), "{text}: {}", run.stderr);
    }
    let run = env.run(&["watch", SESSION, "--timeout", "soon"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("not a duration"), "{}", run.stderr);
}

/// A threshold beside a written comparison was refused with a hint naming `cost_usd > 5`,
/// whatever the rule's condition; the hint names the rule's own condition and figure.
#[test]
fn a_threshold_beside_a_written_comparison_is_refused_in_the_rules_own_words() {
    let env = TestEnv::new();
    for (condition, figure) in [
        ("tool_calls > 1", "tool_calls"),
        ("error_rate >= 0.5", "error_rate"),
    ] {
        std::fs::write(
            env.path().join("rules.json"),
            format!(
                "[{{\"condition\": \"{condition}\", \"threshold\": 3, \"action\": \"alert\"}}]"
            ),
        )
        .unwrap();
        let run = env.run(&["watch", "--rules", "rules.json", "--dry-run"]);
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("`{condition}` alone")),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("`{figure}` with a threshold")),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("cost_usd"), "{}", run.stderr);
    }
}

/// A rules path that is there but no file was said to be missing ("no such rules file"), and a
/// named file was read whole whatever its size.
#[test]
fn a_rules_path_that_is_no_file_says_what_it_is() {
    let env = TestEnv::new();
    env.hook(
        "session-start",
        &json!({"session_id": SESSION, "hook_event_name": "SessionStart"}),
    )
    .success();
    std::fs::create_dir(env.path().join("rules")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(env.path().join("rules.fifo"))
            .status()
            .unwrap()
            .success()
    );
    let huge = format!(
        "[{}]",
        vec![r#"{"condition": "tool_calls", "threshold": 9, "action": "alert"}"#; 20_000].join(",")
    );
    std::fs::write(env.path().join("huge.json"), huge).unwrap();
    for (path, wanted) in [
        ("rules", "rules: not read: it is a folder"),
        ("rules.fifo", "rules.fifo: not read: it is a FIFO"),
        ("huge.json", "huge.json: not read: it is larger than"),
    ] {
        let run = env.run(&["watch", SESSION, "--rules", path]);
        assert_eq!(run.code, 3, "{path}: {}", run.stderr);
        assert!(run.stderr.contains(wanted), "{path}: {}", run.stderr);
    }
    let run = env.run(&["watch", SESSION, "--rules", "nowhere.json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no such rules file"), "{}", run.stderr);
}

#[test]
fn a_watch_killed_outright_still_never_leaves_the_agent_paused() {
    let env = TestEnv::new();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nfor i in 1 2 3; do write {dir}/f$i.rs $i; sleep 0.3; done\nwait_for paused\nend"
        ),
    );
    let watch = start_watch(&env, &["--on-violation", "pause", "--timeout", "1s"]);
    wait_until("the agent is paused", HANG, || agent.state() == Some('T'));
    std::fs::write(env.path().join("paused"), "").unwrap();
    // SIGKILL: the watch can run no code of its own; its guard continues the agent.
    Command::new("kill")
        .args(["-KILL", &watch.pid().to_string()])
        .status()
        .unwrap();
    wait_until("the agent runs again", Duration::from_secs(10), || {
        agent.state() != Some('T')
    });
    assert!(agent.wait(HANG).success());
    drop(watch);
}

/// The guard was started after the SIGSTOP: a watch killed in between (the OOM killer, a
/// `kill -9` the instant the agent stopped) left the agent stopped for good. Killed the moment
/// the agent is seen stopped, the watch has a guard already.
#[test]
fn a_watch_killed_the_instant_it_pauses_the_agent_still_continues_it() {
    for _ in 0..5 {
        let env = TestEnv::new();
        let dir = env.path().display().to_string();
        let mut agent = start_agent(
            &env,
            &format!("start /nowhere\nwatched\nwrite {dir}/f1.rs 1\nwait_for paused\nend"),
        );
        let watch = start_watch(&env, &["--on-violation", "pause", "--timeout", "1s"]);
        let start = Instant::now();
        while agent.state() != Some('T') {
            assert!(start.elapsed() < HANG, "the agent was never paused");
            std::thread::sleep(Duration::from_micros(200));
        }
        Command::new("kill")
            .args(["-KILL", &watch.pid().to_string()])
            .status()
            .unwrap();
        std::fs::write(env.path().join("paused"), "").unwrap();
        wait_until("the agent runs again", Duration::from_secs(10), || {
            agent.state() != Some('T')
        });
        assert!(agent.wait(HANG).success());
        drop(watch);
    }
}

/// The guard looked once, the moment its watch's pipe closed: a SIGSTOP the watch sent just
/// before it died, not yet taken by the agent, was never undone.
#[test]
fn a_guard_continues_an_agent_whose_stop_lands_after_its_watch_died() {
    let mut agent = Proc(Command::new("sleep").arg("30").spawn().unwrap());
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", agent.pid())).unwrap();
    let started = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(19)
        .unwrap()
        .to_owned();
    let mut guard = Command::new(bin())
        .args(["watch", "--guard", &format!("{}:{started}", agent.pid())])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    // The watch dies: its end of the pipe closes; then its SIGSTOP lands.
    drop(guard.stdin.take());
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-STOP", &agent.pid().to_string()])
        .status()
        .unwrap();
    // The guard ends once it has continued the agent, or when it gave up looking for a stop;
    // the stop is not waited for here, since the guard may undo it before a look sees it.
    assert!(guard.wait().unwrap().success());
    wait_until("the agent runs again", Duration::from_secs(1), || {
        agent.state() != Some('T')
    });
    let _ = agent.0.kill();
    let _ = agent.0.wait();
}

#[test]
fn record_names_its_server_and_watch_stops_the_server() {
    let env = TestEnv::new();
    let mut record = Proc(
        in_env(
            &env,
            &bin(),
            &[
                "record",
                "--name",
                "slow",
                "--",
                "sh",
                "-c",
                "exec sleep 30",
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let mut session = String::new();
    wait_until("record names its server", HANG, || {
        session = env.sessions().into_iter().next().unwrap_or_default();
        !session.is_empty()
            && env
                .events(&session)
                .iter()
                .any(|e| e["data"]["agent_pid"].is_u64())
    });
    let server = env
        .events(&session)
        .iter()
        .find_map(|e| e["data"]["agent_pid"].as_u64())
        .unwrap();
    assert_ne!(server, u64::from(record.pid()), "the server, not the proxy");
    let run = in_env(
        &env,
        &bin(),
        &[
            "watch",
            &session,
            "--timeout",
            "1s",
            "--on-violation",
            "kill",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The server ended by SIGTERM, so the proxy ends with it.
    record.wait(HANG);
    let pm: Value = serde_json::from_str(
        &std::fs::read_to_string(env.store().join(&session).join("watchdog-postmortem.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pm["agent_pid"], json!(server));
    assert_eq!(pm["signal"], "SIGTERM");
}

#[test]
fn stream_flush_interval_takes_milliseconds_as_its_help_writes_them() {
    // `500ms` was refused as "each unit needs a number before it".
    let env = TestEnv::new();
    let mut agent = start_agent(&env, "start /nowhere\nprompt one\nend");
    assert!(agent.wait(HANG).success());
    let (port, bodies) = listener();
    let url = format!("http://127.0.0.1:{port}/events");
    let run = start_watch(
        &env,
        &["--stream-to", &url, "--stream-flush-interval", "500ms"],
    )
    .finish(HANG);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!bodies.lock().unwrap().is_empty());
    let bad = env.run(&[
        "watch",
        "--stream-to",
        &url,
        "--stream-flush-interval",
        "5x",
    ]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("d, h, m, s and ms"), "{bad:?}");
}

/// A file cut in place and written again with events that take the ids of events seen before
/// the cut (a forged or rewritten file) had them passed over as seen: a call the watch never
/// saw, `rm -rf build`, went unshown and uncounted. Only an event seen before, the same in
/// every field, is passed over.
#[test]
fn a_watch_shows_an_event_that_takes_a_seen_events_id_after_a_cut() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let call = |n: u32| hook_echo_call(&env, n);
    call(0);
    call(1);
    let before = std::fs::read_to_string(events_file(&env)).unwrap();
    let (watch, errors) = watch_read_the_session(&env, &["--idle", "3s"], Stdio::piped());
    let rewritten = before.replace("echo call 1", "rm -rf build");
    cut_events(&env, 0);
    std::fs::OpenOptions::new()
        .append(true)
        .open(events_file(&env))
        .unwrap()
        .write_all(rewritten.as_bytes())
        .unwrap();
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert!(
        stderr.contains("the session's events file was cut in place"),
        "{stderr}"
    );
    assert_eq!(
        run.stdout.matches("echo call 0").count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("echo call 1").count(),
        1,
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("rm -rf build").count(),
        1,
        "{}",
        run.stdout
    );
}

/// watch's error_rate counted the API errors that ended turns (Claude Code's StopFailure) as
/// calls that failed: an overloaded API broke a rule on the tools' errors though every call
/// went well. They are no call's, and weigh nothing in it.
#[test]
fn an_api_error_that_ended_a_turn_is_no_failed_call_to_the_error_rate() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    for n in 0..5 {
        let ls = json!({"session_id": SESSION, "hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_use_id": format!("toolu_{n}"), "tool_input": {"command": "ls"}});
        env.hook("pre-tool", &ls).success();
        let mut done = ls;
        done["hook_event_name"] = json!("PostToolUse");
        done["tool_response"] = json!({"stdout": "a", "stderr": "", "interrupted": false});
        env.hook("post-tool", &done).success();
    }
    for _ in 0..3 {
        let failure = json!({"session_id": SESSION, "hook_event_name": "StopFailure",
            "error": "overloaded", "error_details": "529 Overloaded"});
        env.hook("StopFailure", &failure).success();
    }
    std::fs::write(
        env.path().join("rules.json"),
        r#"{"rules": [{"name": "flaky", "condition": "error_rate >= 0.3", "action": "alert"}]}"#,
    )
    .unwrap();
    let run = start_watch(&env, &["--rules", "rules.json", "--idle", "1s"]).finish(HANG);
    assert!(!run.stderr.contains("rule `flaky` broke"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{run:?}");
}

/// A start a running session cannot have is no time base: one in 1970, or a first event at
/// -1e12 behind a start of 0, broke a 60-minute limit at once (and killed the agent); one in
/// 2096 made a one-second limit never break. Such a session's time counts from its first
/// believable event, else from now.
#[test]
fn a_start_in_1970_or_2096_neither_breaks_nor_holds_off_a_time_limit() {
    for (started, first_event, limit, broke) in [
        (1.0, None, "60m", false),
        (0.0, Some(-1e12), "60m", false),
        (4_000_000_000.0, None, "1s", true),
        (4_000_000_000.0, Some(f64::NAN), "1s", true),
    ] {
        let env = TestEnv::new();
        session_with_no_process(&env);
        let meta = env.store().join(SESSION).join("meta.json");
        let mut forged: Value =
            serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
        forged["started_at"] = json!(started);
        std::fs::write(&meta, forged.to_string()).unwrap();
        if let Some(at) = first_event {
            let events = events_file(&env);
            let mut first: Value =
                serde_json::from_str(std::fs::read_to_string(&events).unwrap().trim()).unwrap();
            // NaN is no JSON number: the line then has no time, as Python's `NaN` gives none.
            first["timestamp"] = if at.is_nan() { Value::Null } else { json!(at) };
            std::fs::write(&events, format!("{first}\n")).unwrap();
        }
        let run = start_watch(&env, &["--timeout", limit, "--idle", "3s"]).finish(HANG);
        assert_eq!(
            run.code,
            i32::from(broke),
            "{started} {first_event:?}: {run:?}"
        );
        assert_eq!(
            run.stderr.contains("broke"),
            broke,
            "{started} {first_event:?}: {}",
            run.stderr
        );
    }
}

/// An agent that removes its session's folder does not disarm the watch: the process it
/// recorded stays the one to kill (the folder's owner was asked again, found no one, and the
/// kill became an alert, the watch never ending), and a post-mortem that cannot be written
/// ends no watch (it failed with "Is a directory", and --on-death never ran).
#[test]
fn a_kill_holds_when_the_session_folder_is_removed_and_no_post_mortem_can_be_written() {
    let env = TestEnv::new();
    let mut agent = start_agent(
        &env,
        "start /nowhere\nwatched\nfor i in $(seq 1 600); do sleep 0.1; done\nend",
    );
    let ran = env.path().join("on-death-ran");
    let on_death = format!("touch '{}'", ran.display());
    let watch = start_watch(
        &env,
        &[
            "--timeout",
            "2s",
            "--on-violation",
            "kill",
            "--on-death",
            &on_death,
        ],
    );
    std::fs::remove_dir_all(env.store().join(SESSION)).unwrap();
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("ended by SIGTERM; the post-mortem could not be written"),
        "{}",
        run.stderr
    );
    assert!(ran.exists(), "--on-death ran: {}", run.stderr);
}

/// An agent paused by someone else is left paused: the watch took it for one it had paused,
/// and continued it when it stopped.
#[test]
fn a_watch_never_continues_an_agent_it_did_not_pause() {
    let env = TestEnv::new();
    let agent = start_agent(
        &env,
        "start /nowhere\nwatched\nfor i in $(seq 1 600); do sleep 0.1; done\nend",
    );
    let (watch, log) = start_watch_logged(&env, &["--timeout", "1s", "--on-violation", "pause"]);
    Command::new("kill")
        .args(["-STOP", &agent.pid().to_string()])
        .status()
        .unwrap();
    wait_until("the rule breaks", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("PAUSE"))
    });
    Command::new("kill")
        .args(["-TERM", &watch.pid().to_string()])
        .status()
        .unwrap();
    let run = watch.finish(HANG);
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains("is paused already, by another"),
        "{said} {run:?}"
    );
    assert!(!said.contains("continued the agent"), "{said}");
    assert_eq!(agent.state(), Some('T'));
}

/// An events file replaced by one with fewer lines than were read (a line deleted by `sed -i`,
/// the file removed and made anew) loses none of its new events: as many of its lines as had
/// been read were passed over, so its first new events were never seen and a rule on them
/// never broke. Lines read before are passed over; what is new is seen, and counted once.
#[test]
fn a_replaced_events_file_loses_none_of_its_new_events() {
    for replace in ["delete a line", "make it anew"] {
        let env = TestEnv::new();
        session_with_no_process(&env);
        for n in 0..3 {
            prompt(&env, &format!("hello {n}"));
        }
        let (watch, errors) = watch_read_the_session(&env, &["--idle", "3s"], Stdio::piped());
        let events = events_file(&env);
        let text = std::fs::read_to_string(&events).unwrap();
        let kept: String = match replace {
            "delete a line" => text
                .split_inclusive('\n')
                .filter(|l| !l.contains("hello 1"))
                .collect(),
            _ => String::new(),
        };
        let fresh = events.with_extension("new");
        std::fs::write(&fresh, kept).unwrap();
        std::fs::rename(&fresh, &events).unwrap();
        prompt(&env, "after the change");
        let run = watch.finish(HANG);
        let stderr = std::fs::read_to_string(&errors).unwrap();
        assert!(
            run.stdout.contains("after the change"),
            "{replace}: {}\n{stderr}",
            run.stdout
        );
        assert_eq!(
            run.stdout.matches("hello 0").count(),
            1,
            "{replace}: {}",
            run.stdout
        );
        assert!(
            stderr.contains("the session's events file was replaced by another file"),
            "{replace}: {stderr}"
        );
    }
}

/// A transcript the session names is read past its holes: a sparse file of a terabyte (one
/// `truncate`) held the watch, its time limits and its Ctrl-C, for as long as its zeros took
/// to read, again each time it grew. One that cannot be read is said, once: cost rules counted
/// no usage from it, and said nothing.
#[test]
fn a_transcript_of_terabytes_of_holes_holds_no_watch_and_a_missing_one_is_said() {
    for (transcript, said) in [
        ("holes.jsonl", None),
        ("missing.jsonl", Some("missing.jsonl cannot be read")),
    ] {
        let env = TestEnv::new();
        let path = env.path().join(transcript);
        if transcript == "holes.jsonl" {
            let file = std::fs::File::create(&path).unwrap();
            file.set_len(1 << 40).unwrap();
        }
        session_with_no_process_and(&env, json!({"transcript_path": path}));
        let run =
            start_watch(&env, &["--timeout", "1s", "--budget", "5", "--idle", "3s"]).finish(HANG);
        assert_eq!(run.code, 1, "{transcript}: the timeout broke: {run:?}");
        if let Some(said) = said {
            assert_eq!(run.stderr.matches(said).count(), 1, "{}", run.stderr);
        }
    }
}

/// A watch that stops gives an endpoint that never answers ten seconds in all for what is left
/// to stream, not ten seconds a batch: with 101 events in batches of 10 a stopped watch ran on
/// for over a minute and a half, past every Ctrl-C. What was not streamed is said.
#[test]
fn a_stopped_watch_waits_a_bounded_time_for_an_endpoint_that_never_answers() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    for n in 0..100 {
        prompt(&env, &format!("prompt {n}"));
    }
    // Takes every connection and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let url = format!("http://127.0.0.1:{port}/events");
    let (watch, errors) = watch_read_the_session(
        &env,
        &["--stream-to", &url, "--stream-batch-size", "10"],
        Stdio::null(),
    );
    Command::new("kill")
        .args(["-INT", &watch.pid().to_string()])
        .status()
        .unwrap();
    let run = watch.finish(HANG);
    let said = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(run.code, 0, "{said}");
    assert!(said.contains("not streamed"), "{said}");
}

/// Events with no id that a file cut in place gives again are counted once: the watch passed
/// over those seen before by their id, and these were counted twice, breaking a rule of five
/// calls with three made (and killing, had it said kill).
#[test]
fn events_with_no_id_a_cut_file_gives_again_are_counted_once() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let events = events_file(&env);
    let mut text = std::fs::read_to_string(&events).unwrap();
    for n in 0..3 {
        text.push_str(
            &json!({"event_type": "tool_call", "timestamp": 1.0e9 + f64::from(n),
                "session_id": SESSION,
                "data": {"tool_name": "Bash", "arguments": {"command": format!("echo {n}")}}})
            .to_string(),
        );
        text.push('\n');
    }
    std::fs::write(&events, &text).unwrap();
    let rules = env.path().join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"condition": "tool_calls >= 5", "action": "alert"}]"#,
    )
    .unwrap();
    let (watch, errors) = watch_read_the_session(
        &env,
        &["--idle", "3s", "--rules", rules.to_str().unwrap()],
        Stdio::null(),
    );
    // Cut and written again in place, its lines in another order (so that the cut is seen,
    // whenever the watch looks).
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    lines.reverse();
    cut_events(&env, 0);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap()
        .write_all(lines.concat().as_bytes())
        .unwrap();
    let run = watch.finish(HANG);
    let stderr = std::fs::read_to_string(&errors).unwrap();
    assert!(!stderr.contains("broke"), "{stderr}");
    assert_eq!(run.code, 0, "{stderr}");
}

/// A pause stops the commands the agent runs with it, and a kill ends them: only the agent's
/// own process was signalled, so its running command went on while it was paused, and on
/// under init once it was killed.
#[test]
fn a_pause_and_a_kill_reach_the_commands_the_agent_runs() {
    for action in ["pause", "kill"] {
        let env = TestEnv::new();
        let command = env.path().join("command.pid");
        let agent = start_agent(
            &env,
            &format!(
                "start /nowhere\nsleep 300 &\necho $! > {}\nwatched\nfor i in $(seq 1 600); do sleep 0.1; done\nend",
                command.display()
            ),
        );
        wait_until("the command runs", HANG, || command.exists());
        let pid: u32 = std::fs::read_to_string(&command)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let watch = start_watch(&env, &["--timeout", "1s", "--on-violation", action]);
        if action == "pause" {
            wait_until("the command is paused", HANG, || state_of(pid) == Some('T'));
            let run = stop_once_paused(&agent, watch);
            assert!(run.stderr.contains("continued the agent"), "{}", run.stderr);
            wait_until("the command goes on", HANG, || state_of(pid) != Some('T'));
        } else {
            wait_until("the command has ended", HANG, || state_of(pid).is_none());
            let run = watch.finish(HANG);
            assert_eq!(run.code, 1, "{run:?}");
        }
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}

/// A watch holds a batch of the session at a time, and of what went before only what its
/// post-mortem needs: it held every event, so a watch started on a session of 100 MB of tool
/// results held three times that. Nor does it hold the commands of shell calls that got no
/// result: it kept each whole until its result came (300 calls of a megabyte of heredoc each
/// held 339 MB).
#[test]
fn a_watch_of_a_long_session_holds_a_bounded_part_of_it() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let events = events_file(&env);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap();
    let result = "x".repeat(1 << 20);
    let heredoc = format!("{}\n", "y".repeat(63)).repeat(1 << 14);
    for n in 0..100 {
        let call = json!({"event_type": "tool_call", "timestamp": 1.0e9 + f64::from(n),
            "event_id": format!("c{n}"), "session_id": SESSION,
            "data": {"tool_name": "Read", "arguments": {"file_path": format!("/p/{n}")}}});
        let done = json!({"event_type": "tool_result", "timestamp": 1.0e9 + f64::from(n),
            "event_id": format!("r{n}"), "session_id": SESSION, "parent_id": format!("c{n}"),
            "data": {"tool_name": "Read", "result": result}});
        let shell = json!({"event_type": "tool_call", "timestamp": 1.0e9 + f64::from(n),
            "event_id": format!("b{n}"), "session_id": SESSION,
            "data": {"tool_name": "Bash", "tool_use_id": format!("toolu_b{n}"),
                "arguments": {"command": format!("cat > /p/{n}.txt <<'EOF'\n{heredoc}EOF")}}});
        writeln!(file, "{call}\n{done}\n{shell}").unwrap();
    }
    drop(file);
    let watch = in_env(&env, &bin(), &["watch", SESSION, "--idle", "1s"]);
    let (run, peak) = crate::common::run_for_peak_memory_kib(&watch);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.matches("tool_call Read").count(),
        100,
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("tool_call Bash").count(), 100);
    assert!(peak < 96 * 1024, "the watch held {peak} KiB");
}

/// A watch started before the session's first event (its meta written, its events file not yet)
/// kills the process the session then records: the owner of the events file was asked once,
/// found none, and every process was then another user's, never signalled.
#[test]
fn a_watch_started_before_the_first_event_can_kill() {
    let env = TestEnv::new();
    let folder = env.store().join(SESSION);
    std::fs::create_dir_all(&folder).unwrap();
    let meta = json!({"session_id": SESSION, "started_at": std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64(),
        "agent_name": "claude-code", "command": "claude"});
    std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
    let log = env.path().join("watch.err");
    let watch = Proc(
        in_env(
            &env,
            &bin(),
            &[
                "watch",
                SESSION,
                "--timeout",
                "2s",
                "--on-violation",
                "kill",
            ],
        )
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap(),
    );
    wait_until("the watch has read the session", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("watch: session"))
    });
    let mut agent = start_agent(
        &env,
        "start /nowhere\nfor i in $(seq 1 600); do sleep 0.1; done\nend",
    );
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{}", std::fs::read_to_string(&log).unwrap());
}

/// A link put in the events file's place mid-watch is not followed, and the watch goes on with
/// the file it has open: it ended (exit 3), and its rules with it, so swapping the file for a
/// link disarmed the kill switch.
#[test]
fn a_link_put_in_the_events_files_place_disarms_no_rule() {
    let env = TestEnv::new();
    let mut agent = start_agent(
        &env,
        "start /nowhere\nwatched\nfor i in $(seq 1 600); do sleep 0.1; done\nend",
    );
    let (watch, log) = start_watch_logged(&env, &["--timeout", "2s", "--on-violation", "kill"]);
    let events = events_file(&env);
    let elsewhere = env.path().join("elsewhere.ndjson");
    std::fs::write(&elsewhere, "").unwrap();
    let link = events.with_extension("link");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    std::fs::rename(&link, &events).unwrap();
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(run.code, 1, "{said}");
    assert!(said.contains("it is not followed"), "{said}");
}

/// A path of 400,000 folders is judged by a path rule in one pass: each folder of it was a
/// new start for the glob, a path of 100,000 took 38 s, and a kill due meanwhile waited.
#[test]
fn a_path_of_many_folders_holds_off_no_rule() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "file_path", "glob": "**/production.env", "action": "kill"}]"#,
    )
    .unwrap();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nwait_for long\nwrite {dir}/production.env 1\nfor i in $(seq 1 600); do sleep 0.1; done\nend"
        ),
    );
    let (watch, _log) = start_watch_logged(&env, &["--rules", "rules.json"]);
    // Past what the hook keeps of a call's arguments (256 KiB): written as a recorder that
    // keeps more would.
    let long = json!({"event_type": "tool_call", "timestamp": 1.0e9, "event_id": "long",
        "session_id": SESSION, "data": {"tool_name": "Write", "tool_use_id": "toolu_long",
        "arguments": {"file_path": format!("{}x", "a/".repeat(400_000)), "content": "x"}}});
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(events_file(&env))
        .unwrap();
    file.write_all(format!("{long}\n").as_bytes()).unwrap();
    drop(file);
    std::fs::write(env.path().join("long"), "").unwrap();
    let status = agent.wait(HANG);
    assert_eq!(status.signal(), Some(15), "ended by SIGTERM: {status:?}");
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{run:?}");
}

/// A regular file put where a refused link was is followed: the link was remembered by its
/// inode alone, the filesystem gave that inode to the file made next, and the watch took the
/// file for the link, read on the file it had open and never saw the call that broke its rule.
#[test]
fn a_file_put_where_a_refused_link_was_is_followed() {
    let env = TestEnv::new();
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "file_path", "glob": "**/production.env", "action": "kill"}]"#,
    )
    .unwrap();
    let dir = env.path().display().to_string();
    let mut agent = start_agent(
        &env,
        &format!(
            "start /nowhere\nwatched\nwait_for swapped\nwrite {dir}/production.env 1\nfor i in $(seq 1 600); do sleep 0.1; done\nend"
        ),
    );
    let (watch, log) = start_watch_logged(&env, &["--rules", "rules.json"]);
    let events = events_file(&env);
    let saved = env.path().join("saved.ndjson");
    std::fs::rename(&events, &saved).unwrap();
    std::os::unix::fs::symlink(&saved, &events).unwrap();
    wait_until("the watch refuses the link", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|said| said.contains("it is not followed"))
    });
    // On most filesystems (ext4, xfs) the file made next takes the link's freed inode.
    std::fs::remove_file(&events).unwrap();
    std::fs::File::create(&events).unwrap();
    std::fs::write(env.path().join("swapped"), "").unwrap();
    let status = agent.wait(HANG);
    assert_eq!(
        status.signal(),
        Some(15),
        "ended by SIGTERM: {status:?}; {}",
        std::fs::read_to_string(&log).unwrap()
    );
    let run = watch.finish(HANG);
    assert_eq!(run.code, 1, "{}", std::fs::read_to_string(&log).unwrap());
}

/// A rule's threshold was printed rounded: `--max-context-pct 57.6` broken by 57.65% read
/// `context_pct is 58% (>= 58%)`. The threshold reads as it was given.
#[test]
fn a_threshold_with_a_fraction_reads_as_given() {
    use agent_strace::model::Tokens;
    let env = TestEnv::new();
    let id = "1b000000-0000-4000-8000-000000000003";
    crate::common::SessionBuilder::new(id)
        .prompt("read everything")
        .at(1.0)
        .llm_response(
            "claude-sonnet-4-5-20250929",
            Tokens {
                input: 115_300,
                output: 10,
                ..Tokens::default()
            },
        )
        .at(9.0)
        .session_end(json!({"reason": "exit"}))
        .ended(9.0)
        .write(&env);
    let run = env.run(&[
        "watch",
        id,
        "--max-context-pct",
        "57.6",
        "--on-violation",
        "alert",
    ]);
    assert!(run.stderr.contains("57.6%)"), "{}", run.stderr);
    assert!(!run.stderr.contains("58%)"), "{}", run.stderr);
}

/// A watch sized each response's context window from that response alone: after a 300,000-token
/// response proved Sonnet 4.5's long window, a 150,000-token one was 75% of the standard window
/// and broke a 50% rule (a kill under `--on-violation kill`), while token-budget measured both
/// against the long one. A window a model's response proved stays that model's.
#[test]
fn a_long_window_a_response_proved_stays_for_the_responses_after_it() {
    use agent_strace::model::Tokens;
    use agent_strace::model::pricing::{LONG_WINDOW, PriceTable};
    let model = "claude-sonnet-4-5-20250929";
    let standard = PriceTable::builtin()
        .find(model)
        .and_then(|p| p.context_window)
        .unwrap();
    let (proof, later) = (standard * 3 / 2, standard * 3 / 4);
    let pct = |tokens: u64, window: u64| tokens * 100 / window;
    assert!(
        pct(later, standard) >= 50 && pct(proof, LONG_WINDOW) < 50,
        "the test needs a later context half the standard window, under half the long one"
    );
    let env = TestEnv::new();
    let session = |id: &str, contexts: &[u64]| {
        let mut s = crate::common::SessionBuilder::new(id).prompt("read everything");
        for (n, &input) in (1..).zip(contexts) {
            let tokens = Tokens {
                input,
                output: 10,
                ..Tokens::default()
            };
            s = s.at(f64::from(n)).llm_response(model, tokens);
        }
        s.at(9.0)
            .session_end(json!({"reason": "exit"}))
            .ended(9.0)
            .write(&env)
    };
    let watch = |id: &str| {
        env.run(&[
            "watch",
            id,
            "--max-context-pct",
            "50",
            "--on-violation",
            "alert",
        ])
    };
    // Alone, the later response is measured against the standard window, and breaks the rule.
    let alone = session("1b000000-0000-4000-8000-000000000001", &[later]);
    let run = watch(&alone);
    assert!(
        run.stderr
            .contains(&format!("context_pct is {}%", pct(later, standard))),
        "{}",
        run.stderr
    );
    // After a response that proved the long window, it is measured against the long one.
    let proved = session("1b000000-0000-4000-8000-000000000002", &[proof, later]);
    let run = watch(&proved);
    assert!(!run.stderr.contains("broke"), "{}", run.stderr);
    assert_eq!(run.code, 0, "{run:?}");
}

/// A path rule was matched against the path as the agent wrote it, `.` and `..` and all:
/// `/etc/**` broke for a Write of /etc/passwd but not of /tmp/../etc/passwd or /./etc/passwd,
/// `config/secret.txt` never for config/x/../secret.txt, and `/etc/shadow/**` broke for
/// /etc/shadow/../group, which is no file of that folder. `.` and `..` are taken by name, and
/// a relative path is placed in the folder it was named in for an absolute rule.
#[test]
fn a_path_rule_sees_through_dots_in_the_path() {
    let env = TestEnv::new();
    let rules = [
        ("etc", "/etc/**", "/tmp/../etc/passwd"),
        ("hosts", "/etc/hosts", "/./etc/hosts"),
        ("secret", "config/secret.txt", "config/x/../secret.txt"),
        ("keys", "/srv/app/keys/**", "src/../keys/id"),
        ("deploy", "/srv/app/deploy/*", "../deploy/run.sh"),
    ];
    let file: Vec<Value> = rules
        .iter()
        .map(|(name, glob, _)| json!({"name": name, "condition": "file_path", "glob": glob}))
        .chain([json!({"name": "shadow", "condition": "file_path", "glob": "/etc/shadow/**"})])
        .collect();
    std::fs::write(env.path().join("rules.json"), Value::from(file).to_string()).unwrap();
    let id = "2c000000-0000-4000-8000-000000000001";
    let mut session = crate::common::SessionBuilder::new(id)
        .session_start(json!({"source": "startup", "cwd": "/srv/app"}));
    for (n, (name, _, path)) in (2..).zip(rules) {
        let mut data =
            json!({"tool_name": "Write", "arguments": {"file_path": path, "content": "x"}});
        if name == "deploy" {
            // A call in a folder of its own: its path lies there, not in the session's.
            data["cwd"] = json!("/srv/app/src");
        }
        session = session
            .at(f64::from(n))
            .event(agent_strace::model::EventType::ToolCall, data);
    }
    session
        .at(8.0)
        .tool_call(
            "Write",
            json!({"file_path": "/etc/shadow/../group", "content": "x"}),
        )
        .at(9.0)
        .session_end(json!({"reason": "exit"}))
        .ended(9.0)
        .write(&env);
    let run = env.run(&["watch", id, "--rules", "rules.json"]);
    assert_eq!(run.code, 1, "{run:?}");
    for (name, _, path) in rules {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("rule `{name}` broke")) && l.contains(path)),
            "{name} ({path}): {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("rule `shadow`"), "{}", run.stderr);
}

/// A rules file's rule that could never fire was taken without a word (exit 0, the header
/// alone listing it): an empty glob, which matches no path, an error rate of 5 (it runs 0 to
/// 1), a context of 1000%, a cost of $-1 (read "(>= $-1.00)"), a threshold beside a written
/// comparison (`tool_calls > 1`, which holds its own, so the 5 was never read). Each is refused
/// in one line naming the file, the rule and its key, exit 3.
#[test]
fn a_rule_that_could_never_fire_is_refused_naming_its_key() {
    let env = TestEnv::new();
    let id = "2c000000-0000-4000-8000-000000000002";
    crate::common::SessionBuilder::new(id)
        .prompt("go")
        .at(9.0)
        .session_end(json!({"reason": "exit"}))
        .ended(9.0)
        .write(&env);
    for (rule, key) in [
        (
            r#"{"condition": "file_path", "glob": "", "action": "kill"}"#,
            "[1].glob",
        ),
        (
            r#"{"condition": "file_path matches \"\""}"#,
            "[1].condition",
        ),
        (
            r#"{"condition": "error_rate", "threshold": 5}"#,
            "[1].threshold",
        ),
        (r#"{"condition": "error_rate > 1"}"#, "[1].condition"),
        (
            r#"{"condition": "context_pct", "threshold": 1000}"#,
            "[1].threshold",
        ),
        (
            r#"{"condition": "cost_usd", "threshold": -1}"#,
            "[1].threshold",
        ),
        (r#"{"condition": "cost_usd >= $-1"}"#, "[1].condition"),
        (r#"{"condition": "tool_calls < 0"}"#, "[1].condition"),
        // A count is whole: it never equals a fraction.
        (r#"{"condition": "tool_calls == 2.5"}"#, "[1].condition"),
        (r#"{"condition": "files_modified == 0.5"}"#, "[1].condition"),
        (r#"{"condition": "files_deleted == 1.5"}"#, "[1].condition"),
        (
            r#"{"condition": "tool_calls > 1", "threshold": 5}"#,
            "[1].threshold",
        ),
        (
            r#"{"condition": "file_path", "glob": "*.env", "threshold": 5}"#,
            "[1].threshold",
        ),
        (
            r#"{"condition": "tool_calls", "threshold": 5, "glob": "*.env"}"#,
            "[1].glob",
        ),
    ] {
        let text =
            format!("[\n  {{\"condition\": \"tool_calls\", \"threshold\": 9}},\n  {rule}\n]\n");
        std::fs::write(env.path().join("rules.json"), &text).unwrap();
        let run = env.run(&["watch", id, "--rules", "rules.json"]);
        assert_eq!(run.code, 3, "{rule}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{rule}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("rules.json:3: `{key}`")),
            "{rule}: {}",
            run.stderr
        );
    }
    // At the edge of its range a figure can still reach a threshold.
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "error_rate", "threshold": 1}, {"condition": "context_pct", "threshold": 100},
            {"condition": "cost_usd", "threshold": 0}, {"condition": "error_rate <= 0"}]"#,
    )
    .unwrap();
    let run = env.run(&["watch", id, "--rules", "rules.json"]);
    assert_ne!(run.code, 3, "{run:?}");
}

/// `files_modified` counted a file deleted or moved as modified (`rm old.py`, `mv a.txt b.txt`
/// and one file written made 3), where standup and stats count one file modified: a rule of 2
/// broke. A deletion and a move modify no file, as those count.
#[test]
fn files_deleted_or_moved_are_no_files_modified() {
    let env = TestEnv::new();
    let start = json!({"session_id": SESSION, "hook_event_name": "SessionStart",
                       "source": "startup"});
    env.hook("session-start", &start).success();
    for (i, line) in ["echo hi > kept.txt", "rm old.py", "mv a.txt b.txt"]
        .iter()
        .enumerate()
    {
        let call = json!({"session_id": SESSION, "tool_name": "Bash",
                          "tool_input": {"command": line}, "tool_use_id": format!("toolu_{i}")});
        let mut pre = call.clone();
        pre["hook_event_name"] = "PreToolUse".into();
        env.hook("pre-tool", &pre).success();
        let mut post = call;
        post["hook_event_name"] = "PostToolUse".into();
        post["tool_response"] = json!({"stdout": "", "stderr": "", "interrupted": false});
        env.hook("post-tool", &post).success();
    }
    let end = json!({"session_id": SESSION, "hook_event_name": "SessionEnd", "reason": "exit"});
    env.hook("session-end", &end).success();
    let standup = env.run(&["standup", SESSION, "--format", "json"]).json();
    assert_eq!(standup["files_modified"], json!(["kept.txt"]), "{standup}");
    let watch = |rule: &str| {
        let rules = json!([{"condition": rule, "action": "alert"}]);
        std::fs::write(env.path().join("rules.json"), rules.to_string()).unwrap();
        env.run(&["watch", SESSION, "--rules", "rules.json"])
    };
    let run = watch("files_modified >= 2");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = watch("files_modified >= 1");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("files_modified is 1 (>= 1)"),
        "{}",
        run.stderr
    );
}

/// `files_modified` leaves out files deleted and moved (e7b99be9), and nothing counted them:
/// a rule could not watch a session that deletes files. `files_deleted` and `files_moved`
/// count them as stats does (a Codex patch's `Delete File` and `Move to`, its shell's patch, a
/// code-mode cell's `patch_apply_end`).
#[test]
fn files_deleted_and_moved_are_figures_as_stats_counts_them() {
    let env = TestEnv::new();
    crate::shell_files::import_codex_patches(&env);
    let session = crate::shell_files::CODEX_PATCHES_SESSION;
    let stats = env.run(&["stats", session, "--format", "json"]).json();
    let counted = |key: &str| stats[key].as_u64().unwrap_or_else(|| panic!("{stats}"));
    let (deleted, moved) = (counted("files_deleted"), counted("files_moved"));
    assert!(deleted > 0 && moved > 0, "{stats}");
    let watch = |rule: String| {
        let rules = json!([{"condition": rule, "action": "alert"}]);
        std::fs::write(env.path().join("rules.json"), rules.to_string()).unwrap();
        env.run(&["watch", session, "--rules", "rules.json", "--idle", "1s"])
    };
    for (figure, count) in [("files_deleted", deleted), ("files_moved", moved)] {
        let run = watch(format!("{figure} >= {count}"));
        assert_eq!(run.code, 1, "{figure}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("{figure} is {count} (>= {count})")),
            "{}",
            run.stderr
        );
        let run = watch(format!("{figure} > {count}"));
        assert_eq!(run.code, 0, "{figure}: {}", run.stderr);
    }
}

/// watch's context_pct measured a response of a model whose window is not known against
/// 200,000 tokens, a guess, and a context rule fired on it (or stayed silent). The context of
/// such a model is unknown: the rule does not fire, and the watch says once why; a window
/// given with --context-window is measured against.
#[test]
fn a_context_rule_fires_on_no_guessed_window() {
    let env = TestEnv::new();
    let peak = crate::lint::import_made_up_model(&env);
    let session = crate::lint::MADE_UP_MODEL_SESSION;
    let watch = |more: &[&str]| {
        let args = [
            &["watch", session, "--max-context-pct", "1", "--idle", "1s"][..],
            more,
        ];
        env.run(&args.concat())
    };
    let run = watch(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("broke"), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("claude-made-up-9").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--context-window"), "{}", run.stderr);
    let run = watch(&["--context-window", &peak.to_string()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("broke: context_pct is"),
        "{}",
        run.stderr
    );
}

/// The figure rules were judged once a read of the events file, against the figures at its end:
/// three test runs failed in a row and a fourth passed, read at once, broke no
/// `consecutive_test_failures` rule of 3, nor `tool_calls == 2` (path rules, judged per event,
/// did fire). Every rule is judged after every event.
#[test]
fn a_figure_that_comes_and_goes_within_one_read_breaks_its_rule() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    for n in 1..=4 {
        let call = json!({"session_id": SESSION, "tool_name": "Bash",
            "tool_use_id": format!("toolu_{n}"), "tool_input": {"command": "pytest tests/"}});
        let mut pre = call.clone();
        pre["hook_event_name"] = json!("PreToolUse");
        env.hook("pre-tool", &pre).success();
        let mut post = call;
        if n < 4 {
            post["hook_event_name"] = json!("PostToolUseFailure");
            post["error"] = json!("Exit code 1");
            env.hook("post-tool-failure", &post).success();
        } else {
            post["hook_event_name"] = json!("PostToolUse");
            post["tool_response"] = json!({"stdout": "5 passed", "stderr": ""});
            env.hook("post-tool", &post).success();
        }
    }
    std::fs::write(
        env.path().join("rules.json"),
        r#"[{"condition": "consecutive_test_failures", "threshold": 3, "action": "alert"},
            {"condition": "tool_calls == 2", "action": "alert"}]"#,
    )
    .unwrap();
    let run = start_watch(&env, &["--rules", "rules.json", "--idle", "1s"]).finish(HANG);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("consecutive_test_failures is 3 (>= 3)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("tool_calls is 2 (== 2)"),
        "{}",
        run.stderr
    );
}

/// A line the watch skipped (not JSON) was said only when the watch ended, and twice when the
/// events file had been replaced meanwhile (read again from its start): an event its rules
/// never saw went by unsaid. It is said as soon as it is skipped, and once.
#[test]
fn a_skipped_line_is_said_at_once_and_once() {
    let env = TestEnv::new();
    session_with_no_process(&env);
    let out = env.path().join("watch.out");
    let (watch, errors) = watch_read_the_session(
        &env,
        &["--idle", "60s"],
        std::fs::File::create(&out).unwrap().into(),
    );
    let events = events_file(&env);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&events)
        .unwrap();
    file.write_all(b"not an event\n").unwrap();
    drop(file);
    wait_until("the watch says the line is skipped", HANG, || {
        std::fs::read_to_string(&errors).is_ok_and(|t| t.contains("warning:"))
    });
    // Replaced by a copy with one event more: read again from its start.
    let copy = env.path().join("events.copy");
    std::fs::copy(&events, &copy).unwrap();
    std::fs::rename(&copy, &events).unwrap();
    prompt(&env, "after the swap");
    wait_until("the watch reads the new file", HANG, || {
        std::fs::read_to_string(&out).is_ok_and(|t| t.contains("after the swap"))
    });
    Command::new("kill")
        .args(["-TERM", &watch.pid().to_string()])
        .status()
        .unwrap();
    let run = watch.finish(HANG);
    let said = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(said.matches("warning:").count(), 1, "{said} {run:?}");
}

/// The watch stopped the moment the agent's process exited: an event a hook the agent ran
/// appended just after (a Stop hook that ends a moment later) was never shown nor judged. The
/// events file is read on until it stops growing, a moment.
#[test]
fn an_event_written_just_after_the_agent_exits_is_still_read() {
    let env = TestEnv::new();
    let _agent = start_agent(&env, "start /nowhere\nwatched");
    let (watch, log) = start_watch_logged(&env, &[]);
    wait_until("the watch sees the agent gone", HANG, || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("has exited"))
    });
    prompt(&env, "last words");
    let run = watch.finish(HANG);
    assert!(run.stdout.contains("last words"), "{run:?}");
}

/// `cat ~/.ssh/id_rsa` and `cat $HOME/.ssh/id_rsa` in a Bash call recorded no file read, so a
/// path rule on `**/id_rsa` never fired, where audit flagged the same calls as reading the key
/// (`cat /root/.ssh/id_rsa` was recorded). A path in the home folder is recorded as written,
/// as the policy keeps it, and the rule fires on each.
#[test]
fn a_path_rule_fires_on_a_shell_read_of_a_file_in_the_home_folder() {
    for path in ["~/.ssh/id_rsa", "$HOME/.ssh/id_rsa"] {
        let env = TestEnv::new();
        session_with_no_process(&env);
        std::fs::write(
            env.path().join("rules.json"),
            r#"{"rules": [{"name": "no keys", "condition": "file_path matches \"**/id_rsa\"", "action": "alert"}]}"#,
        )
        .unwrap();
        let call = json!({"session_id": SESSION, "tool_name": "Bash", "tool_use_id": "toolu_1",
            "tool_input": {"command": format!("cat {path}")}});
        let mut pre = call.clone();
        pre["hook_event_name"] = "PreToolUse".into();
        env.hook("pre-tool", &pre).success();
        let mut post = call;
        post["hook_event_name"] = "PostToolUse".into();
        post["tool_response"] = json!({"stdout": "", "stderr": "", "interrupted": false});
        env.hook("post-tool", &post).success();
        let run = start_watch(
            &env,
            &["--rules", "rules.json", "--dry-run", "--idle", "2s"],
        )
        .finish(HANG);
        assert!(
            run.stderr.contains("ALERT rule `no keys` broke")
                && run.stderr.contains(&format!("touches {path}")),
            "{path}: {}",
            run.stderr
        );
        // Audit says the same call reads the same file.
        let audit = env.run(&["audit", SESSION, "--format", "json"]).json();
        assert_eq!(audit["violations"][0]["access"]["target"], path, "{audit}");
    }
}
