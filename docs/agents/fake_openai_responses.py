# A fake OpenAI Responses endpoint (POST /v1/responses, SSE) that drove Codex CLI 0.171.0 and
# Copilot CLI 1.0.102 offline on 2026-11-30 (see docs/agents.md section 7). First request of a turn:
# one function call that reads .env (shape chosen by the tools the agent offers); once a tool result
# is in the input: the text "done". Usage numbers are fixed and increase per request.
# Usage: python3 fake_openai_responses.py PORT (0: any free port; the one taken is printed on stdout)
import json, sys, http.server, itertools
LOG = open(sys.argv[2] if len(sys.argv) > 2 else '/dev/null', 'a')
counter = itertools.count()
def sse(events):
    out = b''
    for e in events:
        out += b'event: ' + e['type'].encode() + b'\ndata: ' + json.dumps(e).encode() + b'\n\n'
    return out
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        LOG.write('GET %s\n' % self.path); LOG.flush()
        body = json.dumps({"object": "list", "data": [], "models": []}).encode()
        self.send_response(200); self.send_header('content-type', 'application/json'); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_POST(self):
        n = int(self.headers.get('content-length', 0)); req = self.rfile.read(n)
        LOG.write('POST %s %d bytes\n' % (self.path, n)); LOG.flush()
        try: j = json.loads(req)
        except Exception: j = {}
        inputs = j.get('input', [])
        has_output = any(isinstance(i, dict) and i.get('type') in ('function_call_output', 'custom_tool_call_output') for i in inputs)
        k = next(counter)
        usage = {"input_tokens": 100 + k, "input_tokens_details": {"cached_tokens": 40}, "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3}, "total_tokens": 107 + k}
        if not has_output:
            item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell_command" , "arguments": json.dumps({"command": "cat .env"})}
            tools = [t.get('name') for t in j.get('tools', []) if isinstance(t, dict)]
            LOG.write('tools: %s\n' % tools); LOG.flush()
            if 'shell_command' not in tools and 'shell' in tools:
                item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell", "arguments": json.dumps({"command": ["bash", "-lc", "cat .env"]})}
            LOG.write('tooltypes: %s\n' % json.dumps([(t.get('type'), t.get('name')) for t in j.get('tools', []) if isinstance(t, dict)])); LOG.flush()
            if 'exec_command' in tools and 'shell_command' not in tools and 'shell' not in tools:
                item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": json.dumps({"cmd": "cat .env"})}
            if 'bash' in tools:
                item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "bash", "arguments": json.dumps({"command": "cat .env", "description": "read env"}), "status": "completed"}
            if 'patch' in (j.get('metadata') or {}) or 'apply_patch' in json.dumps(inputs[-1:]):
                item = {"type": "custom_tool_call", "id": "ctc_1", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n"}
        else:
            item = {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed", "content": [{"type": "output_text", "text": "done", "annotations": []}]}
        rid = 'resp_%d' % k
        ev = [{"type": "response.created", "response": {"id": rid}},
              {"type": "response.output_item.added", "output_index": 0, "item": item},
              {"type": "response.output_item.done", "output_index": 0, "item": item},
              {"type": "response.completed", "response": {"id": rid, "object": "response", "status": "completed", "model": j.get('model'), "output": [item], "usage": usage}}]
        body = sse(ev)
        self.send_response(200); self.send_header('content-type', 'text/event-stream'); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)
# Port 0 takes one nobody holds; the port taken is the first line on stdout.
server = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)
print(server.server_address[1], flush=True)
server.serve_forever()
