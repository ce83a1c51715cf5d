// An MCP client that finds how to authenticate from the proxy's 401, as MCP's authorization
// specification has it: the official TypeScript SDK 2.x client with its client-credentials
// provider. From `WWW-Authenticate: Bearer resource_metadata=...` it reads the proxy's RFC 9728
// metadata, the authorization server's metadata, asks that server for a token for the proxy's
// resource (RFC 8707), and calls the tool with it.
//
//   node oauth_client.mjs PROXY_URL ISSUER CLIENT_ID CLIENT_SECRET TOOL ARGS_JSON
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

const [url, issuer, clientId, clientSecret, tool, args] = process.argv.slice(2);
const authProvider = new ClientCredentialsProvider({
  clientId, clientSecret, scope: "sluicegate", expectedIssuer: issuer,
});
const client = new Client({ name: "sluicegate-oauth-test", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider }));
const tools = (await client.listTools()).tools.map((t) => t.name).sort();
const result = await client.callTool({ name: tool, arguments: JSON.parse(args) });
process.stdout.write(JSON.stringify({ tools, result, tokenType: authProvider.tokens()?.token_type }) + "\n");
await client.close();
