// Drive an MCP server with the official TypeScript SDK client, for the agent-strace proxy tests.
//
// Usage:
//   node ts_client.mjs streamable URL          Streamable HTTP endpoint, e.g. http://127.0.0.1:PORT/mcp
//   node ts_client.mjs sse URL                 legacy SSE stream, e.g. http://127.0.0.1:PORT/sse
//   node ts_client.mjs stdio -- COMMAND ARGS   spawn a stdio server (e.g. server-everything)
//   node ts_client.mjs stdio-fs -- COMMAND ARGS
//                                              spawn server-filesystem; FS_ROOT must be its allowed dir
//
// The SDK is loaded from $AGENT_STRACE_MCP_SERVERS (a node_modules directory), because this script
// does not sit next to node_modules. HTTP modes send `Authorization: Bearer test-secret-token-123`
// and `X-Test-Header: kept` on every request.
//
// streamable / sse / stdio run the same session as http_client.py (initialize, tools, echo,
// get-sum, first resource, prompts) and print the same JSON object. stdio-fs lists tools, writes
// a file under FS_ROOT, reads it back and lists FS_ROOT, then prints what it saw as JSON.
// Only that one JSON line goes to stdout; diagnostics go to stderr.

import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.AGENT_STRACE_MCP_SERVERS;
if (!modules) {
  console.error("AGENT_STRACE_MCP_SERVERS must name the node_modules directory holding @modelcontextprotocol/sdk");
  process.exit(2);
}
const sdk = (file) =>
  import(pathToFileURL(path.join(modules, "@modelcontextprotocol/sdk/dist/esm/client", file)).href);

const HEADERS = { Authorization: "Bearer test-secret-token-123", "X-Test-Header": "kept" };
const [mode, ...rest] = process.argv.slice(2);
const afterDashes = () => {
  const i = rest.indexOf("--");
  if (i < 0 || i + 1 >= rest.length) throw new Error(`${mode} mode needs -- COMMAND [ARGS...]`);
  return rest.slice(i + 1);
};

async function makeTransport() {
  if (mode === "streamable") {
    const { StreamableHTTPClientTransport } = await sdk("streamableHttp.js");
    return new StreamableHTTPClientTransport(new URL(rest[0]), { requestInit: { headers: HEADERS } });
  }
  if (mode === "sse") {
    const { SSEClientTransport } = await sdk("sse.js");
    return new SSEClientTransport(new URL(rest[0]), { requestInit: { headers: HEADERS } });
  }
  if (mode === "stdio" || mode === "stdio-fs") {
    const { StdioClientTransport } = await sdk("stdio.js");
    const [command, ...args] = afterDashes();
    // Pass the whole environment: the SDK otherwise keeps only a small "safe" subset.
    return new StdioClientTransport({ command, args, env: { ...process.env }, stderr: "inherit" });
  }
  throw new Error(`unknown mode ${mode}; expected streamable, sse, stdio or stdio-fs`);
}

const text = (result) => result.content[0].text;

async function everything(client, seen) {
  seen.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  seen.echo = text(await client.callTool({ name: "echo", arguments: { message: "héllo through the proxy ✓" } }));
  seen.sum = text(await client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } }));
  const first = (await client.listResources()).resources[0];
  seen.resource_uri = first.uri;
  seen.resource_read = (await client.readResource({ uri: first.uri })).contents.length;
  if (client.getServerCapabilities()?.prompts) {
    seen.prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
  }
}

async function filesystem(client, seen) {
  const root = process.env.FS_ROOT;
  if (!root) throw new Error("stdio-fs mode needs FS_ROOT (the server's allowed directory)");
  const file = path.join(root, "agent-strace-note.txt");
  const content = "written through the proxy ✓\n";
  seen.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  seen.file = file;
  seen.write = text(await client.callTool({ name: "write_file", arguments: { path: file, content } }));
  seen.read = text(await client.callTool({ name: "read_text_file", arguments: { path: file } }));
  seen.read_matches = seen.read === content;
  const listing = text(await client.callTool({ name: "list_directory", arguments: { path: root } }));
  seen.listing = listing.split("\n").sort(); // readdir order is not stable; sort for the tests
}

async function main() {
  const { Client } = await sdk("index.js");
  const transport = await makeTransport();
  const client = new Client({ name: "agent-strace-ts-test", version: "0.1.0" });
  await client.connect(transport); // runs initialize + notifications/initialized
  const seen = { server: client.getServerVersion()?.name };
  if (mode === "stdio-fs") await filesystem(client, seen);
  else await everything(client, seen);
  if (mode === "streamable") {
    seen.session_id = transport.sessionId;
    // Client.close() does not end the HTTP session; the DELETE has to be asked for explicitly.
    await transport.terminateSession();
    seen.terminated = transport.sessionId === undefined;
  } else if (mode === "sse") {
    seen.session_id = transport._endpoint?.searchParams.get("sessionId") ?? undefined;
  }
  await client.close();
  console.log(JSON.stringify(seen));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
