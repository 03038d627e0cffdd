"""The session the proxy tests' Python clients run, whatever the transport.

`exercise(session, seen)`: initialize, list tools, call `echo` and `get-sum`, list resources and
read the first, list prompts when the server offers them; what the client saw goes into `seen`.
"""

from mcp import ClientSession


async def exercise(session: ClientSession, seen: dict) -> None:
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
    if init.capabilities.prompts is not None:
        prompts = await session.list_prompts()
        seen["prompts"] = sorted(p.name for p in prompts.prompts)
