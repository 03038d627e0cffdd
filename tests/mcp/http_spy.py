"""A fake MCP HTTP server and a scripted client, to check that an HTTP proxy changes nothing.

Usage:
  http_spy.py serve LOG [CERT KEY]
      Runs a fake upstream MCP server on 127.0.0.1 (a free port, printed alone on stdout).
      Serves until killed; over TLS when given a certificate and its key (PEM files). For every request it appends one JSON line to LOG, once the answer
      has been sent in full:
        {"method", "path" (with query), "headers": {lowercased name: value},
         "body_b64": the request body, "sent_b64": every answer body byte sent, "status"}
  http_spy.py client BASE OUT
      Runs a fixed scenario against BASE (e.g. http://127.0.0.1:PORT, the proxy or the spy
      itself) and writes OUT: a JSON list of exchanges, in order, each
        {"method", "path", "request_b64", "status", "headers": {lowercased: value},
         "body_b64": the body received (de-chunked)} and, for GET /sse, "endpoint": the
      endpoint event's data as received. Prints nothing.

The server (Streamable HTTP on /mcp, answers carry `Mcp-Session-Id: spy-session-7f3a9c` and
`X-Spy: yes`):
  POST /mcp, by JSON-RPC method: "echo" -> JSON result = params (Content-Length); "big" ->
  a ~10 MB result mixing ASCII and non-ASCII, chunked in uneven chunks; "stream" -> an event
  stream (CRLF, `event: message`, `id:` lines, `: keep-alive` comments) of 5 progress
  notifications and the result, split at awkward places (inside CRLF, inside "data:", inside
  UTF-8 characters); "malformed" -> truncated JSON; "fail" -> 500 with a JSON-RPC error; no
  id -> 202 with an empty body.
  GET /mcp -> an event stream with a server-to-client request and a notification, then ends.
  "slow" -> after params.seconds, the echo's answer; "huge" -> a JSON answer of 65 MiB;
  "tools/call" whose arguments hold "status" -> a tool result (text "done", `isError` =
  arguments.isError) with that HTTP status.
  DELETE /mcp -> 200, empty. POST /private -> 401 "no entry\n". GET /forever -> an event
  stream that never ends (a comment every 0.1 s).
The older HTTP+SSE transport: GET /sse -> a chunked event stream whose first event is
`endpoint` = http://127.0.0.1:<port>/messages?sessionId=abc; POST there -> 202 "Accepted" and
the answer (result = params) goes onto the stream as `event: message`; after answering a
"bye" request the stream ends; the answer to "slow" comes after params.seconds. GET /sse-cr is the same with the session in the path
(/messages/xyz), CR line ends and a byte-order mark opening the stream.

The client sends on every request `Authorization: Bearer spy-secret-token-42`,
`X-Test-Header: kept`, `Accept: application/json, text/event-stream` (plus
`Content-Type: application/json` on POSTs) and never Accept-Encoding; from the second request
of the Streamable HTTP part on, `Mcp-Session-Id: spy-session-7f3a9c` (never on the older
transport's requests).
"""

import base64
import http.client
import ssl
import http.server
import json
import queue
import sys
import threading
import time
import urllib.parse

SESSION_ID = "spy-session-7f3a9c"
TOKEN = "Bearer spy-secret-token-42"
ACCEPT = "application/json, text/event-stream"
TIMEOUT = 60.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def compact(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def header_dict(items) -> dict:
    """Lowercased names; repeated headers joined with ", "."""
    out = {}
    for name, value in items:
        name = name.lower()
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------


def big_text() -> str:
    """About 10 MB (UTF-8) of deterministic text mixing ASCII and non-ASCII."""
    words = ["plain ascii", "café é", "check ✓", "日本語", "crab 🦀", "smile 😀", "naïve"]
    parts = []
    for i in range(375_000):
        parts.append(f"{i:06d} {words[i % len(words)]} {words[(i * 3) % len(words)]}|")
    return "".join(parts)


BIG_CHUNK_SIZES = [1, 2, 3, 5, 17, 1000, 4093, 8191, 65537, 131071, 7, 262147, 999983, 12345]


def stream_payload(rid) -> bytes:
    """The event stream answering "stream": 5 progress notifications, then the result."""
    out = []
    for i in range(1, 6):
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/progress",
            "params": {
                "progressToken": f"p{rid}",
                "progress": i,
                "total": 5,
                "message": f"step {i} ✓ 日本語 é",
            },
        }
        out.append(b"event: message\r\nid: ev-%d\r\ndata: " % i + compact(note) + b"\r\n\r\n")
        out.append(b": keep-alive\r\n\r\n")
    result = {"jsonrpc": "2.0", "id": rid, "result": {"done": True, "text": "fin ✓"}}
    out.append(b"event: message\r\nid: ev-6\r\ndata: " + compact(result) + b"\r\n\r\n")
    return b"".join(out)


def awkward_cuts(payload: bytes) -> list:
    """Cut points: inside "\\r\\n", inside "data:", inside multi-byte UTF-8 characters, and a few
    arbitrary ones."""
    cuts = set()
    for needle, offset, limit in (
        (b"\r\n", 1, 4),
        (b"data:", 2, 4),
        ("✓".encode(), 1, 3),
        ("日".encode(), 2, 2),
        ("é".encode(), 1, 2),
        (b"\r\n\r\n", 2, 2),
    ):
        start = 0
        found = 0
        while found < limit:
            at = payload.find(needle, start)
            if at < 0:
                break
            cuts.add(at + offset)
            start = at + len(needle)
            found += 1
    for step in (7, 61, 113, 255):
        cuts.add(step)
    return sorted(c for c in cuts if 0 < c < len(payload))


class Spy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "http-spy/1"

    # -- plumbing ------------------------------------------------------------------------------

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def begin(self):
        self.req_body = self.read_body()
        self.sent = bytearray()
        self.status = None

    def head(self, status, headers, mcp=False):
        self.status = status
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if mcp:
            self.send_header("Mcp-Session-Id", SESSION_ID)
            self.send_header("X-Spy", "yes")
        self.end_headers()
        self.wfile.flush()

    def whole(self, status, content_type, body: bytes, mcp=False):
        headers = [("Content-Length", str(len(body)))]
        if content_type:
            headers.insert(0, ("Content-Type", content_type))
        self.head(status, headers, mcp)
        if body:
            self.wfile.write(body)
        self.wfile.flush()
        self.sent += body

    def chunk(self, data: bytes):
        if not data:
            return
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()
        self.sent += data

    def end_chunks(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def log_exchange(self):
        line = {
            "method": self.command,
            "path": self.path,
            "headers": header_dict(self.headers.items()),
            "body_b64": b64(self.req_body),
            "sent_b64": b64(bytes(self.sent)),
            "status": self.status,
        }
        with self.server.log_lock:
            self.server.log.write(json.dumps(line) + "\n")
            self.server.log.flush()

    def handle_one(self, route):
        self.begin()
        try:
            route()
        finally:
            self.log_exchange()

    # -- routes --------------------------------------------------------------------------------

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/mcp":
            self.handle_one(self.post_mcp)
        elif path == "/private":
            self.handle_one(lambda: self.whole(401, "text/plain", b"no entry\n"))
        elif path == "/messages" or path.startswith("/messages/"):
            self.handle_one(self.post_messages)
        else:
            self.handle_one(lambda: self.whole(404, "text/plain", b"not found\n"))

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/mcp":
            self.handle_one(self.get_mcp)
        elif path == "/sse":
            self.handle_one(self.get_sse)
        elif path == "/forever":
            self.handle_one(self.get_forever)
        elif path == "/sse-cr":
            # The session in the path, CR line ends, a byte-order mark first.
            self.handle_one(lambda: self.get_sse("xyz", "\r", bom=True))
        else:
            self.handle_one(lambda: self.whole(404, "text/plain", b"not found\n"))

    def do_DELETE(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/mcp":
            self.handle_one(lambda: self.whole(200, None, b"", mcp=True))
        else:
            self.handle_one(lambda: self.whole(404, "text/plain", b"not found\n"))

    def post_mcp(self):
        try:
            req = json.loads(self.req_body)
        except ValueError:
            self.whole(400, "text/plain", b"bad json\n", mcp=True)
            return
        if "id" not in req:
            self.whole(202, None, b"", mcp=True)
            return
        rid, method = req["id"], req.get("method")
        if method == "big":
            body = compact({"jsonrpc": "2.0", "id": rid, "result": {"text": big_text()}})
            self.head(
                200,
                [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                mcp=True,
            )
            at, i = 0, 0
            while at < len(body):
                size = BIG_CHUNK_SIZES[i % len(BIG_CHUNK_SIZES)]
                self.chunk(body[at : at + size])
                at += size
                i += 1
            self.end_chunks()
        elif method == "stream":
            payload = stream_payload(rid)
            self.head(
                200,
                [
                    ("Content-Type", "text/event-stream"),
                    ("Cache-Control", "no-cache"),
                    ("Transfer-Encoding", "chunked"),
                ],
                mcp=True,
            )
            last = 0
            for cut in awkward_cuts(payload) + [len(payload)]:
                self.chunk(payload[last:cut])
                last = cut
                time.sleep(0.005)
            self.end_chunks()
        elif method == "slow":
            time.sleep(float(req["params"]["seconds"]))
            body = compact({"jsonrpc": "2.0", "id": rid, "result": req.get("params")})
            self.whole(200, "application/json", body, mcp=True)
        elif method == "huge":
            body = compact({"jsonrpc": "2.0", "id": rid, "result": {"text": "a" * (65 << 20)}})
            self.whole(200, "application/json", body, mcp=True)
        elif method == "malformed":
            body = b'{"jsonrpc":"2.0","id":' + compact(rid) + b',"result":{"oops":'
            self.whole(200, "application/json", body, mcp=True)
        elif method == "tools/call" and "status" in (
            arguments := ((req.get("params") or {}).get("arguments") or {})
        ):
            result = {
                "content": [{"type": "text", "text": "done"}],
                "isError": bool(arguments.get("isError")),
            }
            body = compact({"jsonrpc": "2.0", "id": rid, "result": result})
            self.whole(int(arguments["status"]), "application/json", body, mcp=True)
        elif method == "fail":
            error = {"code": -32000, "message": "spy failure"}
            body = compact({"jsonrpc": "2.0", "id": rid, "error": error})
            self.whole(500, "application/json", body, mcp=True)
        else:  # "echo" and anything else
            body = compact({"jsonrpc": "2.0", "id": rid, "result": req.get("params")})
            self.whole(200, "application/json", body, mcp=True)

    def get_mcp(self):
        self.head(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-cache"),
                ("Transfer-Encoding", "chunked"),
            ],
            mcp=True,
        )
        sampling = {
            "jsonrpc": "2.0",
            "id": "s1",
            "method": "sampling/createMessage",
            "params": {
                "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                "maxTokens": 5,
            },
        }
        note = {
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {"level": "info", "data": "log ✓"},
        }
        for message in (sampling, note):
            self.chunk(b"event: message\ndata: " + compact(message) + b"\n\n")
            time.sleep(0.005)
        self.end_chunks()

    def get_forever(self):
        self.head(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-cache"),
                ("Transfer-Encoding", "chunked"),
            ],
            mcp=True,
        )
        try:
            while True:
                self.chunk(b": still here\n\n")
                time.sleep(0.1)
        except OSError:
            pass

    def get_sse(self, session="abc", eol="\n", bom=False):
        port = self.server.server_address[1]
        inbox = queue.Queue()
        with self.server.sessions_lock:
            self.server.sessions[session] = inbox
        self.head(
            200,
            [
                ("Content-Type", "text/event-stream"),
                ("Cache-Control", "no-cache"),
                ("Transfer-Encoding", "chunked"),
            ],
        )
        if session == "abc":
            endpoint = f"http://127.0.0.1:{port}/messages?sessionId=abc"
        else:
            endpoint = f"http://127.0.0.1:{port}/messages/{session}"
        head = "\ufeff" if bom else ""
        self.chunk(f"{head}event: endpoint{eol}data: {endpoint}{eol}{eol}".encode())
        try:
            while True:
                try:
                    message, last = inbox.get(timeout=TIMEOUT)
                except queue.Empty:
                    break
                line = b"event: message" + eol.encode() + b"data: " + compact(message)
                self.chunk(line + (eol * 2).encode())
                if last:
                    break
            self.end_chunks()
        finally:
            with self.server.sessions_lock:
                if self.server.sessions.get(session) is inbox:
                    del self.server.sessions[session]

    def post_messages(self):
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query)
        session = (query.get("sessionId") or [split.path.rpartition("/")[2]])[0]
        with self.server.sessions_lock:
            inbox = self.server.sessions.get(session)
        if inbox is None:
            self.whole(404, "text/plain", b"no such session\n")
            return
        try:
            req = json.loads(self.req_body)
        except ValueError:
            self.whole(400, "text/plain", b"bad json\n")
            return
        self.whole(202, "text/plain", b"Accepted")
        if "id" in req:
            answer = {"jsonrpc": "2.0", "id": req["id"], "result": req.get("params")}
            last = req.get("method") == "bye"
            if req.get("method") == "slow":
                seconds = float(req["params"]["seconds"])
                threading.Timer(seconds, inbox.put, [(answer, last)]).start()
            else:
                inbox.put((answer, last))


def serve(log_path: str, cert: str = None, key: str = None) -> int:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Spy)
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    server.log = open(log_path, "a", encoding="utf-8")
    server.log_lock = threading.Lock()
    server.sessions = {}
    server.sessions_lock = threading.Lock()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class Client:
    def __init__(self, base: str):
        split = urllib.parse.urlsplit(base.rstrip("/"))
        self.base = base.rstrip("/")
        self.host, self.port = split.hostname, split.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        self.exchanges = []

    @staticmethod
    def send(conn, method, path, body, session):
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Authorization", TOKEN)
        conn.putheader("X-Test-Header", "kept")
        conn.putheader("Accept", ACCEPT)
        if session:
            conn.putheader("Mcp-Session-Id", SESSION_ID)
        if method == "POST":
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        return conn.getresponse()

    def exchange(self, method, path, message=None, session=True, conn=None):
        body = compact(message) if message is not None else b""
        conn = conn or self.conn
        resp = self.send(conn, method, path, body, session)
        received = resp.read()
        entry = {
            "method": method,
            "path": path,
            "request_b64": b64(body),
            "status": resp.status,
            "headers": header_dict(resp.getheaders()),
            "body_b64": b64(received),
        }
        self.exchanges.append(entry)
        return entry

    def streamable(self):
        self.exchange(
            "POST",
            "/mcp",
            {"jsonrpc": "2.0", "id": 1, "method": "echo", "params": {"text": "héllo ✓ 日本語"}},
            session=False,
        )
        self.exchange("POST", "/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"})
        for rid, method in ((2, "big"), (3, "stream"), (4, "malformed"), (5, "fail")):
            self.exchange("POST", "/mcp", {"jsonrpc": "2.0", "id": rid, "method": method})
        self.exchange("GET", "/mcp")
        self.exchange("POST", "/private", {"jsonrpc": "2.0", "id": 6, "method": "echo", "params": {}})
        self.exchange("DELETE", "/mcp")

    def legacy(self):
        stream_conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        resp = self.send(stream_conn, "GET", "/sse", b"", session=False)
        entry = {
            "method": "GET",
            "path": "/sse",
            "request_b64": "",
            "status": resp.status,
            "headers": header_dict(resp.getheaders()),
            "body_b64": "",
            "endpoint": None,
        }
        self.exchanges.append(entry)
        received = bytearray()
        # Read up to the end of the first event (blank line: LF LF or CRLF CRLF).
        while True:
            normalized = bytes(received).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if b"\n\n" in normalized:
                break
            data = resp.read1(65536)
            if not data:
                break
            received += data
        first = normalized.split(b"\n\n", 1)[0].decode("utf-8")
        name, lines = "message", []
        for line in first.split("\n"):
            if line.startswith("event:"):
                name = line[6:].lstrip(" ")
            elif line.startswith("data:"):
                value = line[5:]
                lines.append(value[1:] if value.startswith(" ") else value)
        endpoint = "\n".join(lines) if name == "endpoint" else None
        entry["endpoint"] = endpoint

        def drain():
            try:
                while True:
                    data = resp.read1(65536)
                    if not data:
                        break
                    received.extend(data)
            except Exception as e:  # reported in OUT rather than lost
                entry["stream_error"] = repr(e)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        if endpoint is not None:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(self.base + "/sse", endpoint))
            post_conn = http.client.HTTPConnection(
                target.hostname, target.port or 80, timeout=TIMEOUT
            )
            path = target.path + (f"?{target.query}" if target.query else "")
            for rid, method, params in ((10, "echo", {"n": 1}), (11, "bye", {})):
                message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
                self.exchange("POST", path, message, session=False, conn=post_conn)
                if target.netloc != urllib.parse.urlsplit(self.base).netloc:
                    self.exchanges[-1]["url"] = urllib.parse.urlunsplit(target)
            post_conn.close()
        reader.join(TIMEOUT)
        if reader.is_alive():
            entry["stream_error"] = "the stream did not end"
        entry["body_b64"] = b64(bytes(received))
        stream_conn.close()

    def run(self):
        self.streamable()
        self.conn.close()
        self.legacy()
        return self.exchanges


def client(base: str, out: str) -> int:
    exchanges = Client(base).run()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(exchanges, f)
    return 0


def main(argv) -> int:
    if len(argv) in (3, 5) and argv[1] == "serve":
        return serve(*argv[2:])
    if len(argv) == 4 and argv[1] == "client":
        return client(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
