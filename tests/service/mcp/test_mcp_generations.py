"""Both protocol generations through the proxy. Clients: the official TypeScript SDK 2.x
negotiating 2026-07-28 (stateless requests, `server/discover`), and the TypeScript SDK 1.x
(2025-11-25, the initialize handshake). Upstreams: the Python SDK's server (2026-07-28) and
the TypeScript SDK 1.x server (2025-11-25) behind one proxy."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from service.mcp.config import ProxyConfig
from service.mcp.server import proxy_app
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import free_port, serving, serving_app
from tests.service.mcp.node_clients import REQUESTER, run_node
from tests.service.mcp.test_mcp_proxy import EXAMPLE, REFUND, _gate_store, _session, _text

MODERN = "2026-07-28"
LEGACY = "2025-11-25"


def _proxy_config(gate: str, port: int, folder: Path, node: str) -> ProxyConfig:
    """The example's payments server and a ledger server of the previous revision."""
    document = yaml.safe_load((EXAMPLE / "proxy.yaml").read_text())
    document["gate"] = gate
    document["listen"] = {"host": "127.0.0.1", "port": port}
    payments = document["upstreams"]["payments"]
    payments["command"] = [sys.executable, str(EXAMPLE / "payments_server.py")]
    payments["env"] = {"PAYMENTS_CALLS_FILE": str(folder / "payments.txt")}
    document["upstreams"]["ledger"] = {
        "command": [node, str(REQUESTER / "legacy.mjs"), "server"],
        "env": {"LEDGER_CALLS_FILE": str(folder / "ledger.txt")},
        "tools": {
            "ledger_balance": {
                "action": "crm.lookup",
                "target": "ledger",
                "environment": "production",
            }
        },
    }
    return ProxyConfig.model_validate(document)


class _Said(logging.Handler):
    """What the proxy logged (its own handler: the gateway configures the root logger)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def proxied(node: str, database_url: str, tmp_path: Path) -> Any:
    url, agent, _ = _gate_store(database_url)
    settings = Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)
    said, logger = _Said(), logging.getLogger("service.mcp.proxy")
    level = logger.level
    logger.addHandler(said)
    logger.setLevel(logging.INFO)
    try:
        with serving(settings, port=free_port()) as gate:
            config = _proxy_config(gate, free_port(), tmp_path, node)
            with serving_app(proxy_app(config), port=config.listen.port) as base:
                yield {"proxy": f"{base}/mcp", "agent": agent, "folder": tmp_path, "said": said}
    finally:
        logger.removeHandler(said)
        logger.setLevel(level)


def test_a_client_of_the_previous_revision_is_served(node: str, proxied: dict[str, Any]) -> None:
    answer = run_node(
        node, "legacy.mjs", "client", proxied["proxy"], proxied["agent"], "lookup_payment",
        json.dumps({"ticket": "T-1"}),
    )  # fmt: skip
    assert answer["protocol"] == LEGACY
    assert answer["tools"] == ["ledger_balance", "lookup_payment", "refund"]
    assert not answer["result"].get("isError"), answer
    held = run_node(
        node, "legacy.mjs", "client", proxied["proxy"], proxied["agent"], "refund",
        json.dumps(REFUND),
    )  # fmt: skip
    assert held["result"]["isError"] is True
    assert "held for review" in held["result"]["content"][0]["text"]


def test_a_2026_client_is_served_statelessly(node: str, proxied: dict[str, Any]) -> None:
    answer = run_node(
        node, "requester.mjs", "call", proxied["proxy"], proxied["agent"], "lookup_payment",
        json.dumps({"ticket": "T-1"}),
    )  # fmt: skip
    assert answer["kind"] == "immediate"
    assert answer["era"] == "modern"
    assert answer["outcome"]["status"] == "completed"
    assert "5000 USD" in answer["outcome"]["result"]["content"][0]["text"]


def _raw(proxied: dict[str, Any], method: str, header: str, meta_version: str) -> Any:
    meta = {
        "io.modelcontextprotocol/protocolVersion": meta_version,
        "io.modelcontextprotocol/clientInfo": {"name": "probe", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return httpx2.post(
        proxied["proxy"],
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": meta}},
        headers={
            "Authorization": f"Bearer {proxied['agent']}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": header,
            "Mcp-Method": method,
        },
    )


def test_discovery_and_the_version_header_checked_against_the_meta(
    proxied: dict[str, Any],
) -> None:
    discovered = _raw(proxied, "server/discover", MODERN, MODERN).json()["result"]
    assert MODERN in discovered["supportedVersions"]
    assert discovered["capabilities"]["extensions"] == {"io.modelcontextprotocol/tasks": {}}
    mismatched = _raw(proxied, "tools/list", MODERN, "2099-01-01")
    assert mismatched.status_code == 400
    assert "error" in mismatched.json()


def test_the_proxy_speaks_to_upstreams_of_either_revision(proxied: dict[str, Any]) -> None:
    spoken = set(proxied["said"].lines)
    assert f"upstream payments speaks MCP {MODERN}" in spoken
    assert f"upstream ledger speaks MCP {LEGACY}" in spoken

    async def scenario() -> str:
        async with _session(proxied["proxy"], proxied["agent"]) as client:
            result = await client.call_tool("ledger_balance", {"account": "ACME"})
            assert not result.is_error, _text(result)
            return _text(result)

    assert asyncio.run(scenario()) == "balance of ACME: 120 USD"
    assert (proxied["folder"] / "ledger.txt").read_text() == "ledger_balance ACME\n"
