"""A real MCP client (the Python SDK's `Client`) driving `agent-strace mcp`, for tests/mcp_server.rs.

Usage: trace_tools_client.py AGENT_STRACE TRACE_DIR MODE CALLS_JSON
MODE is the SDK's connect mode: `auto` (probe server/discover, the 2026-07-28 way) or `legacy`
(the initialize handshake). CALLS_JSON is a list of [tool, arguments]. Prints one JSON object:
the negotiated version, the server's name, the tools listed, and for each call whether it was an
error, its structured content and its text content.
"""

import asyncio
import json
import sys

from mcp import Client, StdioServerParameters


async def main() -> None:
    binary, trace_dir, mode, calls = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    params = StdioServerParameters(command=binary, args=["--trace-dir", trace_dir, "mcp"])
    seen = {"calls": []}
    async with Client(params, mode=mode) as client:
        seen["protocol_version"] = client.protocol_version
        info = client.server_info
        seen["server"] = info.name if info is not None else None
        tools = await client.list_tools()
        seen["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.input_schema,
             "has_output_schema": t.output_schema is not None}
            for t in tools.tools
        ]
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            seen["calls"].append({
                "is_error": bool(result.is_error),
                "structured": result.structured_content,
                "text": result.content[0].text if result.content else None,
            })
    print(json.dumps(seen))


asyncio.run(main())
