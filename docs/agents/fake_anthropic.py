# A fake Anthropic Messages endpoint (POST /v1/messages, streaming SSE) that drove Claude Code
# 2.1.197 offline on 2026-11-30 (see docs/otel.md). Requests that carry tools and no tool_result
# yet get one Bash tool_use (`echo hello`); once a tool_result is in the messages, the text "done".
# Anything else (title/quota side requests without tools) gets a short text. Usage numbers are
# fixed per request number so that tests can check them exactly.
# Usage: python3 fake_anthropic.py PORT [LOGFILE]
import json, sys, http.server, itertools, time
LOG = open(sys.argv[2] if len(sys.argv) > 2 else '/dev/null', 'a')
counter = itertools.count()
def sse(events):
    return b''.join(b'event: ' + e['type'].encode() + b'\ndata: ' + json.dumps(e).encode() + b'\n\n' for e in events)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def reply(self, code, body, ctype='application/json'):
        self.send_response(code); self.send_header('content-type', ctype)
        self.send_header('content-length', str(len(body))); self.send_header('request-id', 'req_fake_%d' % time.time_ns())
        self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        LOG.write('GET %s\n' % self.path); LOG.flush()
        self.reply(200, json.dumps({"data": [], "has_more": False}).encode())
    def do_HEAD(self):
        self.send_response(200); self.send_header('content-length', '0'); self.end_headers()
    def do_POST(self):
        n = int(self.headers.get('content-length', 0)); req = self.rfile.read(n)
        try: j = json.loads(req)
        except Exception: j = {}
        k = next(counter)
        msgs = j.get('messages', [])
        tools = [t.get('name') for t in j.get('tools', []) if isinstance(t, dict)]
        has_result = any(isinstance(b, dict) and b.get('type') == 'tool_result'
                         for m in msgs if isinstance(m.get('content'), list) for b in m['content'])
        LOG.write('POST %s %d bytes model=%s tools=%d result=%s\n' % (self.path, n, j.get('model'), len(tools), has_result)); LOG.flush()
        if not self.path.startswith('/v1/messages'):
            return self.reply(200, b'{}')
        if self.path.startswith('/v1/messages/count_tokens'):
            return self.reply(200, json.dumps({"input_tokens": 42}).encode())
        model = j.get('model', 'claude-sonnet-4-5')
        usage_in = {"input_tokens": 1000 + k, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 3000, "output_tokens": 1}
        if 'Bash' in tools and not has_result:
            block = {"type": "tool_use", "id": "toolu_fake_%d" % k, "name": "Bash", "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps({"command": "echo hello", "description": "Say hello"})}]
            stop = "tool_use"
        else:
            block = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": "done"}]
            stop = "end_turn"
        mid = 'msg_fake_%d' % k
        ev = [{"type": "message_start", "message": {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage_in}},
              {"type": "content_block_start", "index": 0, "content_block": block}]
        ev += [{"type": "content_block_delta", "index": 0, "delta": d} for d in deltas]
        ev += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 50 + k}},
               {"type": "message_stop"}]
        if j.get('stream'):
            self.reply(200, sse(ev), 'text/event-stream')
        else:
            content = [dict(block, input={"command": "echo hello"})] if stop == 'tool_use' else [{"type": "text", "text": "done"}]
            self.reply(200, json.dumps({"id": mid, "type": "message", "role": "assistant", "model": model, "content": content, "stop_reason": stop, "usage": dict(usage_in, output_tokens=50 + k)}).encode())
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
