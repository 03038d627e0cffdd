"""A real MCP client session through `agent-strace record`, for the proxy tests.

Usage: stdio_client.py AGENT_STRACE TRACE_DIR -- SERVER_COMMAND [ARGS...]
Runs the official Python `mcp` client against `agent-strace record -- SERVER_COMMAND ...`:
initialize, list tools, call two tools, list and read a resource. Prints one JSON object with
what the client saw, for the test to compare with what the proxy recorded.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    binary, trace_dir = sys.argv[1], sys.argv[2]
    server = sys.argv[sys.argv.index("--") + 1 :]
    params = StdioServerParameters(
        command=binary,
        args=["--trace-dir", trace_dir, "record", "--name", "everything", "--", *server],
    )
    seen = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            seen["server"] = init.server_info.name
            tools = await session.list_tools()
            seen["tools"] = sorted(t.name for t in tools.tools)
            echo = await session.call_tool("echo", {"message": "héllo through the proxy ✓"})
            seen["echo"] = echo.content[0].text
            total = await session.call_tool("get-sum", {"a": 2, "b": 40})
            seen["sum"] = total.content[0].text
            resources = await session.list_resources()
            first = resources.resources[0]
            seen["resource_uri"] = str(first.uri)
            body = await session.read_resource(first.uri)
            seen["resource_read"] = len(body.contents)
    print(json.dumps(seen))


asyncio.run(main())
