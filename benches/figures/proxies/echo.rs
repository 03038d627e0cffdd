//! The echo server of the stdio proxy figures (this bench binary run as `figures
//! --echo-server`) and the request and answer lines it speaks.

use std::io::{BufRead, BufReader, BufWriter, Write};

use crate::Res;

/// The argument that turns this bench binary into the echo server.
pub(crate) const ECHO_SERVER: &str = "--echo-server";
/// Pipe reads and writes of the bench, as big as the proxy's.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Request `i`: a `tools/call` of 101–106 bytes with its newline.
pub(crate) fn request_line(i: usize, out: &mut Vec<u8>) {
    let _ = writeln!(
        out,
        r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hi"}}}}}}"#
    );
}

/// The echo server's answer to the request with id `id` (the id's JSON text).
pub(crate) fn response_line(id: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    out.extend_from_slice(id);
    out.extend_from_slice(
        br#","result":{"content":[{"type":"text","text":"hi"}],"isError":false}}"#,
    );
    out.push(b'\n');
}

/// The `"id":` number of a request line as [`request_line`] writes it.
pub(crate) fn request_id(line: &[u8]) -> Option<&[u8]> {
    let key = br#""id":"#;
    let at = line.windows(key.len()).position(|w| w == key)? + key.len();
    let len = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    (len > 0).then(|| &line[at..at + len])
}

/// `figures --echo-server`: the MCP server of the proxy figures. Answers each request line
/// with a `tools/call` result carrying the same id, at once; it writes when it has read all
/// that is waiting, so a burst of requests gets its answers in few writes, and a lone request
/// its answer in one.
pub(crate) fn echo_server() -> std::io::Result<()> {
    let mut input = BufReader::with_capacity(CHUNK, std::io::stdin().lock());
    let mut out = BufWriter::with_capacity(CHUNK, std::io::stdout().lock());
    let mut line = Vec::with_capacity(256);
    let mut answer = Vec::with_capacity(256);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if let Some(id) = request_id(&line) {
            answer.clear();
            response_line(id, &mut answer);
            out.write_all(&answer)?;
        }
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
    out.flush()
}

/// The echo server's command: this bench binary.
pub(crate) fn echo_command() -> Res<Vec<String>> {
    let exe = std::env::current_exe()?;
    Ok(vec![
        exe.to_string_lossy().into_owned(),
        ECHO_SERVER.to_owned(),
    ])
}
