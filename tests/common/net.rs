//! Servers the HTTP proxy tests start: real MCP servers, the proxy itself, and ways to wait for
//! them and stop them.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestEnv;

/// A path an environment variable names, which the test cannot run without.
#[track_caller]
pub fn required(var: &str, what: &str) -> PathBuf {
    let value = std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.exists());
    value.unwrap_or_else(|| {
        panic!("{what} is needed: set {var} (tests/run.sh installs it and sets it)")
    })
}

/// A child process killed when the test lets go of it, passed or failed.
pub struct Background(pub Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Background {
    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status()
            .unwrap();
        self.0.wait().unwrap().code()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
#[track_caller]
pub fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "nothing listens on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// npm's server-everything in one of its HTTP modes (`streamableHttp`, `sse`), on a free port.
pub fn everything_over_http(mode: &str) -> (Background, u16) {
    let servers = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/server-everything",
    );
    let script = servers.join("@modelcontextprotocol/server-everything/dist/index.js");
    let port = free_port();
    let child = Command::new("node")
        .arg(script)
        .arg(mode)
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Background(child);
    wait_for_port(port);
    (server, port)
}

/// `record-http` in front of `url` on a free port; returns it and its port.
pub fn record_http(env: &TestEnv, url: &str, extra: &[&str]) -> (Background, u16) {
    record_http_with(env, url, extra, &[])
}

/// `record_http` with more environment variables for the proxy.
pub fn record_http_with(
    env: &TestEnv,
    url: &str,
    extra: &[&str],
    vars: &[(&str, &std::path::Path)],
) -> (Background, u16) {
    let store = env.store();
    let mut args = vec!["--trace-dir", store.to_str().unwrap(), "record-http", url];
    args.extend_from_slice(&["--port", "0"]);
    args.extend_from_slice(extra);
    let mut command = env.command(&args);
    for (name, value) in vars {
        command.env(name, value);
    }
    spawn_proxy(command)
}

/// Starts a `record-http` command; returns it and the port it says it listens on.
pub fn spawn_proxy(mut command: Command) -> (Background, u16) {
    let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Killed however the test ends from here on.
    let proxy = Background(child);
    let mut said = String::new();
    let port = loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(
            read > 0,
            "the proxy ended before saying where it listens: {said}"
        );
        let port = line
            .split("forwarding http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(['/', ' ']).next())
            .and_then(|p| p.parse().ok());
        said.push_str(&line);
        if let Some(port) = port {
            break port;
        }
    };
    // Keep reading, so the proxy never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut rest = String::new();
        while stderr.read_line(&mut rest).is_ok_and(|n| n > 0) {}
    });
    (proxy, port)
}

/// Runs an MCP client script and returns the one JSON object it prints of what it saw.
#[track_caller]
pub fn client_saw(command: &mut Command, what: &str) -> serde_json::Value {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
