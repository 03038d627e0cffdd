//! The HTTP proxy's figure: what `record-http` adds to a Streamable HTTP POST round trip, against
//! the same server reached directly in the same run.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub(crate) const HTTP_WARMUP: usize = 200;
pub(crate) const HTTP_ROUND_TRIPS: usize = 5_000;

pub(crate) struct HttpLatency {
    pub(crate) direct: Vec<Duration>,
    pub(crate) proxied: Vec<Duration>,
    /// tool_call and tool_result events recorded, and how many results are linked to a call.
    pub(crate) recorded: (usize, usize, usize),
}

/// A server that answers every POST with a `tools/call` result for its id, over keep-alive
/// HTTP/1.1 with a Content-Length: as small as a server can be, so the figure is the proxy's.
fn serve(listener: &TcpListener) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let mut reader = BufReader::new(stream.try_clone()?);
            let mut writer = stream;
            while let Some(body) = read_message(&mut reader)? {
                let request: serde_json::Value = serde_json::from_slice(&body)?;
                let answer = serde_json::json!({
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "result": {"content": [{"type": "text", "text": "ok"}]},
                })
                .to_string();
                write!(
                    writer,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                    answer.len()
                )?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
    }
}

/// Reads one HTTP message's head and its Content-Length body; `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" && !first {
            break;
        }
        first = false;
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

fn request(i: usize) -> Vec<u8> {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"request {i}"}}}}}}"#
    );
    format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn new(port: u16) -> Res<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn round_trip(&mut self, request: &[u8]) -> Res<(Duration, Vec<u8>)> {
        let start = Instant::now();
        self.writer.write_all(request)?;
        let body = read_message(&mut self.reader)?.ok_or("the connection closed")?;
        Ok((start.elapsed(), body))
    }
}

pub(crate) fn bench_http(bin: &Path, work: &Path) -> Res<HttpLatency> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let upstream = listener.local_addr()?.port();
    std::thread::spawn(move || serve(&listener));
    let store = work.join("http-latency");
    let mut proxy = Command::new(bin)
        .arg("--trace-dir")
        .arg(&store)
        .args(["record-http", &format!("http://127.0.0.1:{upstream}/mcp")])
        .args(["--port", "0"])
        .env("AGENT_STRACE_HOME", work.join("agent-strace-home"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(proxy.stderr.take().ok_or("no stderr")?).read_line(&mut first)?;
    let port: u16 = first
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("record-http said: {first}"))?;
    let mut direct = Conn::new(upstream)?;
    let mut proxied = Conn::new(port)?;
    let mut lat = HttpLatency {
        direct: Vec::with_capacity(HTTP_ROUND_TRIPS),
        proxied: Vec::with_capacity(HTTP_ROUND_TRIPS),
        recorded: (0, 0, 0),
    };
    for i in 0..HTTP_WARMUP + HTTP_ROUND_TRIPS {
        let request = request(i);
        // Each goes first every other time, so neither always follows the other's wake-ups.
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let conn = if which == 0 {
                &mut direct
            } else {
                &mut proxied
            };
            let (took, body) = conn.round_trip(&request)?;
            if !body.starts_with(format!(r#"{{"jsonrpc":"2.0","id":{i},"#).as_bytes()) {
                return Err(format!("answer {i} was {}", String::from_utf8_lossy(&body)).into());
            }
            if i >= HTTP_WARMUP {
                if which == 0 {
                    lat.direct.push(took);
                } else {
                    lat.proxied.push(took);
                }
            }
        }
    }
    drop(proxied);
    Command::new("kill")
        .arg("-TERM")
        .arg(proxy.id().to_string())
        .status()?;
    proxy.wait()?;
    let session = std::fs::read_dir(&store)?
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .ok_or("record-http made no session")?;
    let events = std::fs::read_to_string(session.path().join("events.ndjson"))?;
    for line in events.lines() {
        let event: serde_json::Value = serde_json::from_str(line)?;
        match event["event_type"].as_str() {
            Some("tool_call") => lat.recorded.0 += 1,
            Some("tool_result") => {
                lat.recorded.1 += 1;
                if event["parent_id"].is_string() {
                    lat.recorded.2 += 1;
                }
            }
            _ => {}
        }
    }
    std::fs::remove_dir_all(&store)?;
    Ok(lat)
}
