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

/// An address of this machine that refuses every connection for as long as the test holds
/// it: a TCP socket bound to a port of 127.0.0.1 and never put to listen. The kernel answers a
/// connection to it with a reset, as for a port nobody has, and no other process can bind the
/// port meanwhile (the socket shares its address with none). A port found free for "nobody
/// listens" could be taken by another process between its choosing and its use, and answer.
/// (A server of the test's binds port 0 and says which it took: our collector with `--port 0`,
/// [`serve`]; other programs through [`serve_saying_its_port`] or [`serve_on_port_zero`].)
pub struct NobodyListens {
    /// Held, never listening: what keeps the port refused and ours.
    _socket: rustix::fd::OwnedFd,
    port: u16,
}

impl NobodyListens {
    pub fn new() -> NobodyListens {
        use rustix::net::{AddressFamily, SocketType, bind, getsockname, socket};
        let socket = socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        bind(
            &socket,
            &std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 0),
        )
        .unwrap();
        let address = std::net::SocketAddrV4::try_from(getsockname(&socket).unwrap()).unwrap();
        NobodyListens {
            _socket: socket,
            port: address.port(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`, with no path.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

#[test]
fn nobody_listens_refuses_connections_and_keeps_its_port_while_held() {
    let nobody = NobodyListens::new();
    for _ in 0..3 {
        let refused = TcpStream::connect(("127.0.0.1", nobody.port())).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    }
    // Nobody else can listen there meanwhile, on 127.0.0.1 or on every address (refused
    // above, nobody did before).
    for host in ["127.0.0.1", "0.0.0.0"] {
        let taken = std::net::TcpListener::bind((host, nobody.port())).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse, "{host}");
    }
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

/// Starts the collector `command` runs (`server … --port 0`) and returns it with the port it
/// says it listens on. Its stderr is read a byte at a time up to that line, so that what it
/// logs afterwards stays in the pipe for the test to read.
#[track_caller]
pub fn serve(mut command: Command) -> (Background, u16) {
    let mut server = Background(command.stderr(Stdio::piped()).spawn().unwrap());
    let stderr = server.0.stderr.as_mut().unwrap();
    let mut said = Vec::new();
    let mut byte = [0u8];
    loop {
        let read = std::io::Read::read(stderr, &mut byte).unwrap();
        let text = String::from_utf8_lossy(&said).into_owned();
        assert!(
            read > 0,
            "the collector ended before saying where it listens: {text}"
        );
        if byte[0] != b'\n' {
            said.push(byte[0]);
            continue;
        }
        let port = text
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|address| address.rsplit(':').next())
            .and_then(|port| port.parse().ok());
        if let Some(port) = port {
            return (server, port);
        }
        said.push(b'\n');
    }
}

/// [`serve`], with what the collector logs afterwards read and dropped, so that it never
/// blocks on a full pipe.
#[track_caller]
pub fn serve_quietly(command: Command) -> (Background, u16) {
    let (mut server, port) = serve(command);
    let mut stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    (server, port)
}

/// Starts a server `command` runs on port 0 (the system gives it one nobody holds) that says
/// the port it took as the first line of its stdout, once it listens there; returns it with
/// that port. A port chosen free and then given to a server could be taken by another process
/// first, which would answer in its place.
#[track_caller]
pub fn serve_saying_its_port(mut command: Command) -> (Background, u16) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Killed however the test ends from here on.
    let server = Background(child);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the server did not say its port: {line:?}"));
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (server, port)
}

/// Starts a server `command` runs on port 0 that does not say which port it took (it says 0),
/// and returns it with the port it listens on: that of the one listening socket it (or a
/// process it started) holds, once it holds one. Two are refused: which to use is not known.
#[track_caller]
pub fn serve_on_port_zero(mut command: Command) -> (Background, u16) {
    let mut server = Background(command.spawn().unwrap());
    let start = Instant::now();
    loop {
        match listening_ports(server.0.id())[..] {
            [] => {}
            [port] => return (server, port),
            ref ports => panic!("the server listens on several ports: {ports:?}"),
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the server ended ({status}) before it listened");
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "the server did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The TCP ports on which process `pid` or one it started listens (listening sockets, in
/// `/proc/net/tcp` and `tcp6`, that are its descriptors), each once.
fn listening_ports(pid: u32) -> Vec<u16> {
    let sockets: Vec<(u16, String)> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    // sl local_address rem_address st … inode: st 0A is LISTEN.
                    let columns: Vec<&str> = line.split_whitespace().collect();
                    let local = columns.get(1)?.rsplit(':').next()?;
                    let port = u16::from_str_radix(local, 16).ok()?;
                    let inode = columns.get(9)?;
                    (*columns.get(3)? == "0A").then(|| (port, format!("socket:[{inode}]")))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut ports: Vec<u16> = family(pid)
        .into_iter()
        .filter_map(|pid| std::fs::read_dir(format!("/proc/{pid}/fd")).ok())
        .flat_map(|fds| {
            fds.filter_map(Result::ok)
                .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                .collect::<Vec<_>>()
        })
        .filter_map(|link| {
            sockets
                .iter()
                .find(|(_, s)| link.as_os_str() == s.as_str())
                .map(|(port, _)| *port)
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Process `pid` and those it started, and theirs.
fn family(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let parent = stat[stat.rfind(')')? + 1..].split_whitespace().nth(1)?;
            Some((child, parent.parse().ok()?))
        })
        .collect();
    let mut family = vec![pid];
    let mut next = 0;
    while next < family.len() {
        let of = family[next];
        family.extend(parents.iter().filter(|(_, p)| *p == of).map(|(c, _)| *c));
        next += 1;
    }
    family
}

/// The fake OpenAI Responses endpoint of docs/agents/fake_openai_responses.py, on the port it
/// took ([`serve_saying_its_port`]).
pub fn fake_responses_model() -> (Background, u16) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/agents/fake_openai_responses.py");
    let mut python = Command::new("python3");
    python.arg(&script).arg("0").stdin(Stdio::null());
    serve_saying_its_port(python)
}

/// npm's server-everything in one of its HTTP modes (`streamableHttp`, `sse`), on the port it
/// took ([`serve_on_port_zero`]: it takes `PORT=0`, but says 0 rather than the port it took).
pub fn everything_over_http(mode: &str) -> (Background, u16) {
    let servers = required(
        "AGENT_STRACE_MCP_SERVERS",
        "npm's @modelcontextprotocol/server-everything",
    );
    let script = servers.join("@modelcontextprotocol/server-everything/dist/index.js");
    let mut node = Command::new("node");
    node.arg(&script)
        .arg(mode)
        .env("PORT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    serve_on_port_zero(node)
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
