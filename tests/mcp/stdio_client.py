"""A real MCP client session through `agent-strace record`, for the proxy tests.

Usage: stdio_client.py AGENT_STRACE TRACE_DIR -- SERVER_COMMAND [ARGS...]
Runs the official Python `mcp` client against `agent-strace record -- SERVER_COMMAND ...`
through the session of session_steps.py. Prints one JSON object with what the client saw, for
the test to compare with what the proxy recorded.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from session_steps import exercise


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
            await exercise(session, seen)
    print(json.dumps(seen))


asyncio.run(main())
