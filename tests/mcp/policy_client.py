"""A real MCP client through `agent-strace record --policy` or `record-http --policy`.

Usage: policy_client.py stdio AGENT_STRACE TRACE_DIR POLICY -- SERVER_COMMAND [ARGS...]
       policy_client.py http URL
       policy_client.py sse URL   (the older HTTP+SSE transport)
Calls `echo` (which the test's policy allows), then `get-sum` (which it denies), then `echo`
again, and prints one JSON object: what each call returned, or the JSON-RPC error it got.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError


async def calls(session: ClientSession, seen: dict) -> None:
    await session.initialize()
    echo = await session.call_tool("echo", {"message": "allowed"})
    seen["echo"] = echo.content[0].text
    try:
        total = await session.call_tool("get-sum", {"a": 2, "b": 40})
        seen["sum"] = total.content[0].text
    except MCPError as e:
        seen["sum_error"] = {"code": e.error.code, "message": e.error.message, "data": e.error.data}
    again = await session.call_tool("echo", {"message": "still talking"})
    seen["echo_again"] = again.content[0].text


async def main() -> None:
    seen = {}
    if sys.argv[1] == "stdio":
        binary, trace_dir, policy = sys.argv[2], sys.argv[3], sys.argv[4]
        server = sys.argv[sys.argv.index("--") + 1 :]
        params = StdioServerParameters(
            command=binary,
            args=["--trace-dir", trace_dir, "record", "--policy", policy, "--name", "everything", "--", *server],
        )
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await calls(session, seen)
    elif sys.argv[1] == "sse":
        from mcp.client.sse import sse_client

        async with sse_client(sys.argv[2]) as (read, write):
            async with ClientSession(read, write) as session:
                await calls(session, seen)
    else:
        from mcp.client.streamable_http import streamable_http_client

        async with streamable_http_client(sys.argv[2]) as (read, write):
            async with ClientSession(read, write) as session:
                await calls(session, seen)
    print(json.dumps(seen))


asyncio.run(main())
