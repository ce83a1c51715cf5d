// A real OpenID provider for the identity tests: panva's oidc-provider (OpenID Certified),
// on loopback, configured from a JSON file:
//
//   node provider.mjs CONFIG_JSON
//
// CONFIG_JSON: {"port": 0, "clients": [...], "accounts": {"sub": {"email": ..., "email_verified": true}},
//               "shortLivedClients": ["..."]}
// Agents get JWT access tokens by client credentials, for the resource they name (RFC 8707);
// people sign in through the provider's development login form (any password).
// Prints one line of JSON once listening: {"issuer": "http://127.0.0.1:PORT"}.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import * as jose from "jose";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const server = createServer();
await new Promise((resolve) => server.listen(config.port ?? 0, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: "provider-key-1", alg: "ES256", use: "sig" };
const shortLived = new Set(config.shortLivedClients ?? []);

const provider = new Provider(issuer, {
  clients: config.clients,
  clientDefaults: { id_token_signed_response_alg: "ES256", grant_types: ["authorization_code"], response_types: ["code"] },
  jwks: { keys: [jwk] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, ...(config.accounts?.[sub] ?? {}) }),
  }),
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf ?? undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: config.resourceScopes ?? "sluicegate actions:crm.*",
        audience: resource,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "ES256" } },
      }),
    },
  },
  ttl: {
    ClientCredentials: (ctx, token, client) => (shortLived.has(client.clientId) ? 2 : 600),
    AccessToken: 600,
    IdToken: 600,
  },
  pkce: { required: () => true },
});
provider.proxy = false;
server.on("request", provider.callback());
process.stdout.write(JSON.stringify({ issuer }) + "\n");
