// One MCP client, as an application would run it: the official TypeScript SDK's Client
// (2026-07-28) with the official Tasks requester (@modelcontextprotocol/ext-tasks).
//
//   node requester.mjs call   PROXY_URL KEY TOOL ARGS_JSON   -> prints {"task": ...} or {"result": ...}
//   node requester.mjs settle PROXY_URL KEY TASK_REF_JSON     -> waits; prints {"outcome": ...}
//   node requester.mjs cancel PROXY_URL KEY TASK_REF_JSON     -> prints {"cancelled": true}
//
// `call` creates the task and stops (as a process that exits while a person reviews);
// `settle` resumes it from its reference, possibly against another proxy replica.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient } from "@modelcontextprotocol/ext-tasks/client";

const [mode, url, key, ...rest] = process.argv.slice(2);
const PROTOCOL = "2026-07-28";
const clientInfo = { name: "sluicegate-tasks-test", version: "1.0.0" };
let nextId = 1;

// The package frames the Tasks requests itself; the host sends them (`rawDispatch`).
async function rawDispatch(request, options) {
  const framed = { jsonrpc: "2.0", ...request, id: request.id ?? `raw-${nextId++}` };
  const headers = {
    "Authorization": `Bearer ${key}`,
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": PROTOCOL,
    "Mcp-Method": framed.method,
    ...(options?.context?.headers ?? {}), // for tasks/*: Mcp-Name is the task id
  };
  if (framed.method === "tools/call") headers["Mcp-Name"] = framed.params.name;
  const answer = await fetch(url, { method: "POST", headers, body: JSON.stringify(framed) });
  const response = await answer.json();
  if (process.env.REQUESTER_DEBUG) process.stderr.write(`raw ${JSON.stringify(framed)} -> ${JSON.stringify(response)}\n`);
  return response;
}

async function session() {
  const client = new Client(clientInfo, { capabilities: {}, versionNegotiation: { mode: "auto" } });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  const tasks = createTaskSessionFromClient(client, {
    endpointId: "sluicegate-mcp-proxy", // one endpoint, whichever replica answers
    rawDispatch,
    v2RequestFraming: { protocolVersion: PROTOCOL, clientInfo, clientCapabilities: {} },
  });
  return { client, tasks };
}

const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const { client, tasks } = await session();
try {
  if (mode === "call") {
    const [tool, args] = rest;
    const execution = await tasks.callTool(tool, JSON.parse(args));
    if (execution.kind === "task") {
      let reference;
      await execution.handoff((ref) => { reference = ref; }); // this process stops here;
      await execution.result().catch(() => {}); // released: closing the session leaves it be
      print({ kind: "task", taskId: execution.handle.taskId, reference, era: client.getProtocolEra() });
    } else {
      const { outcome } = await execution.settle();
      print({ kind: "immediate", outcome, era: client.getProtocolEra(), caps: client.getServerCapabilities() });
    }
  } else if (mode === "settle") {
    const execution = await tasks.resumeTask(JSON.parse(rest[0]));
    const { outcome } = await execution.settle();
    print({ outcome });
  } else if (mode === "cancel") {
    const execution = await tasks.resumeTask(JSON.parse(rest[0]));
    await execution.cancel();
    print({ cancelled: true });
  }
} finally {
  await tasks.close();
  await client.close();
}
