"""MCP clients present the organisation's access tokens to the proxy (issued by a real OpenID
provider, oidc-provider, started by the tests), on both stores. The proxy checks the token
itself (its audience is the proxy's own URL), never passes it on, and asks the gate with its
own key naming the token's agent, which nobody else may do. A real MCP client library (the
official TypeScript SDK's client-credentials provider) completes discovery from the 401."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text

from service.auth.identities import IdentityKind, link_identity
from service.auth.keys import create_key
from service.auth.on_behalf import on_behalf_headers
from service.auth.roles import Role
from service.mcp.config import ProxyConfig
from service.mcp.server import proxy_app
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, RULES
from tests.identity.provider import OpenIdProvider, openid_provider
from tests.loopback import free_port, serving, serving_app
from tests.service.mcp.node_clients import run_node
from tests.service.mcp.test_mcp_proxy import EXAMPLE, REFUND, _session, _text
from tests.store_access import store

CLIENTS = [
    {"client_id": "payments-bot", "client_secret": "bot-secret"},
    {"client_id": "stranger-bot", "client_secret": "stranger-secret"},
]
CRM = {"action": {"type": "crm.lookup", "environment": "production"}}


def _proxy_config(gate: str, port: int, issuer: str, calls: Path) -> ProxyConfig:
    document = yaml.safe_load((EXAMPLE / "proxy.yaml").read_text())
    payments = document["upstreams"]["payments"]
    payments["command"] = [sys.executable, str(EXAMPLE / "payments_server.py")]
    payments["env"] = {"PAYMENTS_CALLS_FILE": str(calls)}
    document |= {
        "gate": gate,
        "listen": {"host": "127.0.0.1", "port": port},
        "public_url": f"http://127.0.0.1:{port}/mcp",
        "oauth_issuers": [issuer],
    }
    return ProxyConfig.model_validate(document)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    clients = [
        c | {"grant_types": ["client_credentials"], "redirect_uris": [], "response_types": []}
        for c in CLIENTS
    ]
    with openid_provider({"clients": clients}, tmp_path) as provider:
        database = database_engine(database_url)
        migrate(database)
        keys = {
            name: create_key(database, name=name, role=role, scopes=scopes)[1]
            for name, role, scopes in (
                ("payments-bot", Role.AGENT, ["*"]),
                ("mcp-proxy", Role.PROXY, []),
                ("fiona", Role.REVIEWER, ["group:finance-approvers"]),
                ("audrey", Role.AUDITOR, []),
            )
        }
        link_identity(
            database, "payments-bot", kind=IdentityKind.OAUTH, issuer=provider.issuer,
            subject="payments-bot", scopes=["*"],
        )  # fmt: skip
        database.dispose()
        gate_port, proxy_port = free_port(), free_port()
        settings = Settings(
            database_url=database_url,
            rules=RULES,
            audit_signing_key=AUDIT_KEY,
            public_url=f"http://127.0.0.1:{gate_port}/",
            oauth_issuers=provider.issuer,
        )
        with serving(settings, port=gate_port) as gate:
            config = _proxy_config(gate, proxy_port, provider.issuer, tmp_path / "calls.txt")
            app = proxy_app(config, proxy_key=keys["mcp-proxy"])
            with serving_app(app, port=proxy_port) as proxy:
                yield {
                    "gate": gate,
                    "proxy": f"{proxy}/mcp",
                    "resource": config.public_url,
                    "provider": provider,
                    "keys": keys,
                    "database_url": database_url,
                }


def _token(world: dict[str, Any], client: str, resource: str | None = None) -> str:
    secret = next(c["client_secret"] for c in CLIENTS if c["client_id"] == client)
    provider: OpenIdProvider = world["provider"]
    return provider.client_token(
        client, secret, resource=resource or world["resource"], scope="sluicegate"
    )


def test_an_agent_calls_a_tool_with_its_token_and_the_gate_sees_the_agent(
    world: dict[str, Any],
) -> None:
    token = _token(world, "payments-bot")

    async def scenario() -> tuple[Any, Any]:
        async with _session(world["proxy"], token) as client:
            read = await client.call_tool("lookup_payment", {"ticket": "T-1"})
            held = await client.call_tool("refund", REFUND)
            return read, held

    read, held = asyncio.run(scenario())
    assert not read.is_error, _text(read)
    assert "held for review" in _text(held)
    events = httpx.get(
        f"{world['gate']}/v1/audit/events",
        params={"kind": "decision"},
        headers={"Authorization": f"Bearer {world['keys']['audrey']}"},
    ).json()["events"]
    assert {e["event"]["agent"]["name"] for e in events} == {"payments-bot"}


def test_a_token_for_the_gate_is_not_one_for_the_proxy(world: dict[str, Any]) -> None:
    for_the_gate = _token(world, "payments-bot", resource=world["gate"] + "/")
    answer = httpx.post(
        world["proxy"],
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {for_the_gate}"},
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "invalid_token"
    challenge = answer.headers["WWW-Authenticate"]
    proxy_origin = world["proxy"].removesuffix("/mcp")
    assert 'error="invalid_token"' in challenge
    assert f'resource_metadata="{proxy_origin}/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )
    metadata = httpx.get(f"{proxy_origin}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["resource"] == world["resource"]
    assert metadata["authorization_servers"] == [world["provider"].issuer]
    assert httpx.get(f"{proxy_origin}/.well-known/oauth-authorization-server").status_code == 404


def test_nobody_but_the_proxy_names_a_tokens_agent(world: dict[str, Any]) -> None:
    issuer = world["provider"].issuer
    naming = on_behalf_headers(issuer, ["payments-bot"], [])

    def decide(key: str, extra: dict[str, str]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} | extra
        return httpx.post(f"{world['gate']}/v1/decisions", json=CRM, headers=headers)

    keys = world["keys"]
    refused = {
        "an agent's key": decide(keys["payments-bot"], naming),
        "a reviewer's key": decide(keys["fiona"], naming),
        "the proxy's key alone": decide(keys["mcp-proxy"], {}),
        "the proxy naming a stranger": decide(
            keys["mcp-proxy"], on_behalf_headers(issuer, ["stranger-bot"], [])
        ),
    }
    assert {what: (a.status_code, a.json()["error"]["code"]) for what, a in refused.items()} == {
        "an agent's key": (403, "forbidden"),
        "a reviewer's key": (403, "forbidden"),
        "the proxy's key alone": (403, "forbidden"),
        "the proxy naming a stranger": (401, "invalid_token"),
    }
    with store(world["database_url"]) as db:
        assert db.execute(text("SELECT count(*) FROM decisions")).scalar_one() == 0
    assert decide(keys["mcp-proxy"], naming).status_code == 201  # the proxy may


def test_an_mcp_client_completes_discovery_from_the_401_and_calls_a_tool(
    node: str, world: dict[str, Any]
) -> None:
    answer = run_node(
        node, "oauth_client.mjs", world["proxy"], world["provider"].issuer, "payments-bot",
        "bot-secret", "lookup_payment", json.dumps({"ticket": "T-1"}),
    )  # fmt: skip
    assert answer["tools"] == ["lookup_payment", "refund"]
    assert not answer["result"].get("isError"), answer
    assert answer["tokenType"].lower() == "bearer"
