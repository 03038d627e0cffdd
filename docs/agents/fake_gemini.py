# A fake Gemini API endpoint (POST /v1beta/models/M:streamGenerateContent?alt=sse) that drove
# Gemini CLI 0.61.0 offline on 2026-11-30 (see docs/agents.md section 7). First request: a text chunk
# then a read_file call; after a functionResponse: two text chunks. Each chunk carries usageMetadata.
# Usage: python3 fake_gemini.py PORT (0: any free port; the one taken is printed on stdout)
import json, sys, http.server
LOG = open(sys.argv[2] if len(sys.argv) > 2 else '/dev/null', 'a')
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def reply(self, body, ctype='application/json'):
        self.send_response(200); self.send_header('content-type', ctype); self.send_header('content-length', str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        LOG.write('GET %s\n' % self.path); LOG.flush(); self.reply(b'{}')
    def do_POST(self):
        n = int(self.headers.get('content-length', 0)); req = self.rfile.read(n)
        LOG.write('POST %s %d\n' % (self.path, n)); LOG.flush()
        try: j = json.loads(req)
        except Exception: j = {}
        if ':countTokens' in self.path:
            return self.reply(json.dumps({"totalTokens": 10}).encode())
        contents = j.get('contents', [])
        last = contents[-1] if contents else {}
        had_response = any('functionResponse' in p for p in last.get('parts', []))
        fn_names = [f.get('name') for t in j.get('tools', []) for f in t.get('functionDeclarations', [])]
        LOG.write('tools: %s\n' % fn_names); LOG.flush()
        if not had_response and 'read_file' in fn_names:
            chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Reading."}]}, "index": 0}], "usageMetadata": {"promptTokenCount": 50, "totalTokenCount": 50}, "modelVersion": "gemini-2.5-flash"},
                      {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "read_file", "args": {"file_path": "README.md"}}}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 9, "cachedContentTokenCount": 20, "thoughtsTokenCount": 4, "totalTokenCount": 63}, "modelVersion": "gemini-2.5-flash"}]
        else:
            chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "All "}]}, "index": 0}], "usageMetadata": {"promptTokenCount": 70, "totalTokenCount": 70}, "modelVersion": "gemini-2.5-flash"},
                      {"candidates": [{"content": {"role": "model", "parts": [{"text": "done."}]}, "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 70, "candidatesTokenCount": 3, "totalTokenCount": 73}, "modelVersion": "gemini-2.5-flash"}]
        if 'streamGenerateContent' in self.path:
            body = b''.join(b'data: ' + json.dumps(c).encode() + b'\r\n\r\n' for c in chunks)
            return self.reply(body, 'text/event-stream')
        # non-streaming (e.g. routing/classifier calls): one JSON answer
        return self.reply(json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": "{\"reasoning\":\"x\",\"model_choice\":\"flash\"}"}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5, "totalTokenCount": 10}}).encode())
# Port 0 takes one nobody holds; the port taken is the first line on stdout.
server = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H)
print(server.server_address[1], flush=True)
server.serve_forever()
