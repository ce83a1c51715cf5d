// The previous protocol revision (2025-11-25), with the official TypeScript SDK 1.x:
//
//   node legacy.mjs client PROXY_URL KEY TOOL ARGS_JSON   -> prints {"protocol", "tools", "result"}
//   node legacy.mjs server                                 -> an MCP server on stdio with one tool,
//                                                             `ledger_balance`, logging each call to
//                                                             $LEDGER_CALLS_FILE
import { appendFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const [mode, ...rest] = process.argv.slice(2);

if (mode === "client") {
  const [url, key, tool, args] = rest;
  const client = new Client({ name: "sluicegate-legacy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  const listed = await client.listTools();
  const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
  process.stdout.write(JSON.stringify({
    protocol: transport.protocolVersion,
    tools: listed.tools.map((t) => t.name).sort(),
    result,
  }) + "\n");
  await client.close();
} else if (mode === "server") {
  const server = new McpServer({ name: "ledger", version: "1.0.0" });
  server.registerTool(
    "ledger_balance",
    { description: "An account's balance (a read).", inputSchema: { account: z.string() } },
    async ({ account }) => {
      if (process.env.LEDGER_CALLS_FILE) appendFileSync(process.env.LEDGER_CALLS_FILE, `ledger_balance ${account}\n`);
      return { content: [{ type: "text", text: `balance of ${account}: 120 USD` }] };
    },
  );
  await server.connect(new StdioServerTransport());
}
