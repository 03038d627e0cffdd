// A real MCP client (the official TypeScript SDK's) driving `agent-strace mcp`, for
// tests/mcp_server.rs.
//
// Usage: node trace_tools_client.mjs AGENT_STRACE TRACE_DIR CALLS_JSON
// The SDK is loaded from $AGENT_STRACE_MCP_SERVERS (a node_modules directory). It runs the
// initialize handshake, lists the tools and makes each call of CALLS_JSON (a list of
// [tool, arguments]); the SDK checks structured content against each tool's outputSchema. Prints
// one JSON object: the server's name and instructions, the tools, and for each call whether it was an error,
// its structured content and its text content.

import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.AGENT_STRACE_MCP_SERVERS;
if (!modules) {
  console.error("AGENT_STRACE_MCP_SERVERS must name the node_modules directory holding @modelcontextprotocol/sdk");
  process.exit(2);
}
const sdk = (file) =>
  import(pathToFileURL(path.join(modules, "@modelcontextprotocol/sdk/dist/esm/client", file)).href);

const [binary, traceDir, callsJson] = process.argv.slice(2);
const { Client } = await sdk("index.js");
const { StdioClientTransport } = await sdk("stdio.js");
const transport = new StdioClientTransport({ command: binary, args: ["--trace-dir", traceDir, "mcp"], stderr: "inherit" });
const client = new Client({ name: "agent-strace-test", version: "1.0.0" });
await client.connect(transport);
const seen = { server: client.getServerVersion()?.name, instructions: client.getInstructions() ?? null, calls: [] };
const tools = await client.listTools();
seen.tools = tools.tools.map((t) => ({ name: t.name, has_output_schema: t.outputSchema !== undefined }));
for (const [name, args] of JSON.parse(callsJson)) {
  const result = await client.callTool({ name, arguments: args });
  seen.calls.push({
    is_error: result.isError === true,
    structured: result.structuredContent ?? null,
    text: result.content?.[0]?.text ?? null,
  });
}
await client.close();
console.log(JSON.stringify(seen));
