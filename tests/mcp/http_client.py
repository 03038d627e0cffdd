"""Drive an MCP server over HTTP with the official Python `mcp` client, for the HTTP proxy tests.

Usage: http_client.py streamable|sse URL
  streamable: URL is the Streamable HTTP endpoint (e.g. http://127.0.0.1:PORT/mcp).
  sse:        URL is the legacy SSE stream (e.g. http://127.0.0.1:PORT/sse); the client POSTs to
              whatever `endpoint` event the server sends.
Every HTTP request carries `Authorization: Bearer test-secret-token-123` and `X-Test-Header: kept`,
so a test can check how the proxy treats (and redacts) them.

Session: initialize, list tools, call `echo` and `get-sum`, list resources and read the first,
list prompts when the server offers them. Prints a single JSON object on stdout describing what the
client saw (nothing else goes to stdout). `session_id` is the Mcp-Session-Id (streamable) or the
sessionId from the endpoint URL (sse). In streamable mode `terminated` tells whether the closing
DELETE was sent and answered with 200/204.
"""

import asyncio
import json
import sys

import httpx2
from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from session_steps import exercise

HEADERS = {"Authorization": "Bearer test-secret-token-123", "X-Test-Header": "kept"}


async def run_streamable(url: str, seen: dict) -> None:
    deletes = []

    async def on_response(response: httpx2.Response) -> None:
        sid = response.headers.get("mcp-session-id")
        if sid:
            seen["session_id"] = sid
        if response.request.method == "DELETE":
            deletes.append(response.status_code)

    client = httpx2.AsyncClient(
        headers=HEADERS,
        timeout=httpx2.Timeout(30.0, read=300.0),
        event_hooks={"response": [on_response]},
    )
    async with client:
        async with streamable_http_client(url, http_client=client) as (read, write):
            async with ClientSession(read, write) as session:
                await exercise(session, seen)
        # Leaving streamable_http_client sends DELETE with the session id.
    seen["terminated"] = any(code in (200, 204) for code in deletes)


async def run_sse(url: str, seen: dict) -> None:
    def on_session(sid: str) -> None:
        seen["session_id"] = sid

    async with sse_client(url, headers=HEADERS, on_session_created=on_session) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, seen)


async def main() -> None:
    mode, url = sys.argv[1], sys.argv[2]
    seen: dict = {}
    if mode == "streamable":
        await run_streamable(url, seen)
    elif mode == "sse":
        await run_sse(url, seen)
    else:
        sys.exit(f"unknown mode {mode!r}; expected streamable or sse")
    print(json.dumps(seen))


asyncio.run(main())
