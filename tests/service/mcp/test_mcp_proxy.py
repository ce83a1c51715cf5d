"""End to end: a real MCP client (the SDK's, streamable HTTP) → the proxy → a real upstream
MCP server process (examples/mcp-payments), with a real gateway deciding."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import ValidationError

from service.auth.keys import create_key
from service.auth.roles import Role
from service.mcp.config import ProxyConfig
from service.mcp.proxy import permit_meta
from service.mcp.server import proxy_app
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import free_port, serving, serving_app

EXAMPLE = Path(__file__).parents[3] / "examples" / "mcp-payments"
REFUND = {"amount": 5000, "ticket": "T-981", "reason": "duplicate charge"}


def _config(gate: str, port: int, calls: Path) -> ProxyConfig:
    document = yaml.safe_load((EXAMPLE / "proxy.yaml").read_text())
    payments = document["upstreams"]["payments"]
    payments["command"] = [sys.executable, str(EXAMPLE / "payments_server.py")]
    # The gate's JWKS URL comes from the proxy (`upstream_env`): only the test's own file here.
    payments["env"] = {"PAYMENTS_CALLS_FILE": str(calls)}
    document["gate"] = gate
    document["listen"] = {"host": "127.0.0.1", "port": port}
    return ProxyConfig.model_validate(document)


def _serve(app: Any, port: int) -> Iterator[str]:
    """The proxy served on the port; yields its MCP endpoint."""
    with serving_app(app, port=port) as url:
        yield f"{url}/mcp"


def _gate_store(url: str) -> tuple[str, str, str]:
    """A migrated store with the agent's and the reviewer's keys: (url, agent, reviewer)."""
    database = database_engine(url)
    migrate(database)
    _, agent = create_key(database, name="payments-bot", role=Role.AGENT, scopes=["*"])
    _, reviewer = create_key(
        database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
    )
    database.dispose()
    return url, agent, reviewer


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url, agent, reviewer = _gate_store(database_url)
    calls = tmp_path / "calls.txt"
    calls.touch()
    gate_port = free_port()
    settings = Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)
    with serving(settings, port=gate_port) as gate:
        config = _config(gate, free_port(), calls)
        for proxy in _serve(proxy_app(config), config.listen.port):
            yield {
                "gate": gate,
                "proxy": proxy,
                "agent": agent,
                "reviewer": reviewer,
                "calls": calls,
            }


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


@asynccontextmanager
async def _session(proxy: str, key: str) -> AsyncIterator[Client]:
    """The SDK's client over streamable HTTP, sending the agent's gate key."""
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(proxy, http_client=http)) as client,
    ):
        yield client


def test_calls_are_gated_end_to_end(world: dict[str, Any]) -> None:
    calls: Path = world["calls"]

    async def scenario() -> None:
        async with _session(world["proxy"], world["agent"]) as client:
            listed = await client.list_tools()
            assert sorted(t.name for t in listed.tools) == ["lookup_payment", "refund"]
            described = {t.name: t.description for t in listed.tools}
            assert described["refund"] == "Refund a payment (money leaves the company)."

            read = await client.call_tool("lookup_payment", {"ticket": "T-981"})
            assert not read.is_error, _text(read)
            assert calls.read_text().splitlines() == ["lookup_payment T-981"]

            held = await client.call_tool("refund", REFUND)
            assert held.is_error
            assert "held for review" in _text(held)
            assert "finance-approvers" in _text(held)
            decision_id = _text(held).split("decision ")[1].split(",")[0]
            review_id = _text(held).split("review ")[1].split(" ")[0]
            assert f"{world['gate']}/ui/reviews/{review_id}" in _text(held)
            assert "refund" not in calls.read_text()

            waiting = await client.call_tool("refund", REFUND)
            assert "still held" in _text(waiting)

            await _approve(world, decision_id)
            ran = await client.call_tool("refund", REFUND)
            assert not ran.is_error, _text(ran)
            assert "refunded 5000" in _text(ran)

            again = await client.call_tool("refund", REFUND)  # a new refund: decided afresh
            assert again.is_error
            assert "held for review" in _text(again)

            unmapped = await client.call_tool("void_payment", {"ticket": "T-981"})
            assert unmapped.is_error
            assert "no mapping" in _text(unmapped)

    asyncio.run(scenario())
    assert calls.read_text().splitlines() == ["lookup_payment T-981", "refund T-981 5000.0"]
    assert _reported_status(world) == "verified"  # the mapping's `done` met `done_when`


def _reported_status(world: dict[str, Any]) -> str:
    """The refund's status once the proxy's outcome report (sent beside the answer) landed."""
    decision = f"{world['gate']}/v1/decisions/{_decision_of(world)}"
    headers = {"Authorization": f"Bearer {world['agent']}"}
    for _ in range(100):
        status = str(httpx2.get(decision, headers=headers).json()["status"])
        if status != "approved":
            return status
        time.sleep(0.05)
    return status


def _decision_of(world: dict[str, Any]) -> str:
    reviews = httpx2.get(
        f"{world['gate']}/v1/reviews",
        headers={"Authorization": f"Bearer {world['reviewer']}"},
        params={"state": "approved"},
    ).json()
    return str(reviews[0]["decision_id"])


async def _approve(world: dict[str, Any], decision_id: str) -> None:
    async with httpx2.AsyncClient(base_url=world["gate"]) as gate:
        headers = {"Authorization": f"Bearer {world['reviewer']}"}
        reviews = (await gate.get("/v1/reviews", headers=headers)).json()
        (review,) = [r for r in reviews if r["decision_id"] == decision_id]
        approved = await gate.post(f"/v1/reviews/{review['id']}/approve", json={}, headers=headers)
        assert approved.status_code == 200, approved.text


def test_without_a_key_the_proxy_answers_401(world: dict[str, Any]) -> None:
    answer = httpx2.post(world["proxy"], json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert answer.status_code == 401


LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


def _asked(world: dict[str, Any], key: str) -> list[int]:
    """What the proxy answers, with this key, to a tool listing and to opening a stream."""
    headers = MCP_HEADERS | {"Authorization": f"Bearer {key}"}
    listing = httpx2.post(world["proxy"], json=LIST_TOOLS, headers=headers)
    with httpx2.stream(
        "GET", world["proxy"], headers=headers | {"Accept": "text/event-stream"}
    ) as stream:  # its status only: a stream the proxy opens stays open
        return [listing.status_code, stream.status_code]


def test_every_request_needs_a_key_the_gate_accepts(world: dict[str, Any]) -> None:
    """Once, `tools/list` and event streams opened for any bearer string; only `tools/call`
    asked the gate."""
    assert _asked(world, "sg_made_up_key") == [401, 401]
    assert _asked(world, world["reviewer"]) == [403, 403]  # a person's key: not an agent's
    assert _asked(world, world["agent"])[0] == 200


def test_a_revoked_key_stops_working_at_the_proxy_within_a_second(
    world: dict[str, Any], database_url: str
) -> None:
    from service.auth.keys import revoke_keys_of
    from service.auth.principals import principal_named

    assert _asked(world, world["agent"])[0] == 200
    database = database_engine(database_url)
    try:
        revoke_keys_of(database, principal_named(database, "payments-bot"))
    finally:
        database.dispose()
    time.sleep(2.2)  # the proxy's cache (1 s) and the gate's (1 s) both ran out
    assert _asked(world, world["agent"]) == [401, 401]


def test_with_the_gate_down_nothing_is_forwarded(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    calls.touch()
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    config = _config(nowhere, free_port(), calls)
    for proxy in _serve(proxy_app(config), config.listen.port):
        headers = MCP_HEADERS | {"Authorization": "Bearer sg_any_key"}
        for method in ("tools/list", "tools/call"):
            body = LIST_TOOLS | {"method": method}
            if method == "tools/call":
                body["params"] = {"name": "refund", "arguments": REFUND}
            answer = httpx2.post(proxy, json=body, headers=headers)
            assert answer.status_code == 503  # the key cannot be checked: fail closed
            assert answer.json()["error"]["code"] == "gate_unavailable"
    assert calls.read_text() == ""


def test_the_example_runs_unchanged_on_any_ports(database_url: str) -> None:
    """`sluicegate mcp-proxy` as a user starts it, on the example's own file: the proxy's port
    from `--port`, the gate's URL from SLUICEGATE_GATE_URL, and the target finds the gate's
    JWKS there (an approved refund's permit verifies)."""
    url, agent, reviewer = _gate_store(database_url)
    settings = Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)
    root, port = EXAMPLE.parents[1], free_port()
    with serving(settings, port=free_port()) as gate:
        command = [
            str(Path(sys.executable).parent / "sluicegate"), "mcp-proxy",
            "--config", str(EXAMPLE / "proxy.yaml"), "--port", str(port),
        ]  # fmt: skip
        env = {**os.environ, "SLUICEGATE_GATE_URL": gate}
        with subprocess.Popen(command, cwd=root, env=env) as proxy:
            try:
                proxied = _answering(f"http://127.0.0.1:{port}/mcp")
                world = {"gate": gate, "reviewer": reviewer}

                async def scenario() -> None:
                    async with _session(proxied, agent) as client:
                        read = await client.call_tool("lookup_payment", {"ticket": "T-1"})
                        assert not read.is_error, _text(read)
                        held = await client.call_tool("refund", REFUND)
                        decision_id = _text(held).split("decision ")[1].split(",")[0]
                        await _approve(world, decision_id)
                        ran = await client.call_tool("refund", REFUND)
                        assert "refunded 5000" in _text(ran), _text(ran)

                asyncio.run(scenario())
            finally:
                proxy.terminate()


def _answering(endpoint: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx2.get(endpoint, timeout=1)
            return endpoint
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {endpoint}")


def test_the_command_line_and_environment_win_over_the_file() -> None:
    config = ProxyConfig.model_validate(yaml.safe_load((EXAMPLE / "proxy.yaml").read_text()))
    served = config.served_at(gate="http://127.0.0.1:9/", port=7001)
    assert (served.gate, served.listen.host, served.listen.port) == (
        "http://127.0.0.1:9/", "127.0.0.1", 7001,
    )  # fmt: skip
    env = served.upstream_env(served.upstreams["payments"])
    assert env["SLUICEGATE_JWKS_URL"] == "http://127.0.0.1:9/.well-known/jwks.json"
    own = served.upstreams["payments"].model_copy(update={"env": {"SLUICEGATE_JWKS_URL": "x"}})
    assert served.upstream_env(own)["SLUICEGATE_JWKS_URL"] == "x"  # the file's own env wins
    with pytest.raises(ValidationError):
        config.served_at(port=70_000)
    document = config.model_dump()
    document["upstreams"]["payments"]["tools"]["refund"]["done"] = {"refund_id": "refund_id"}
    with pytest.raises(ValidationError, match=r"done\.refund_id must be a JSONPath"):
        ProxyConfig.model_validate(document)


def test_a_bad_configuration_is_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from service.cli.main import app

    bad = tmp_path / "proxy.yaml"
    bad.write_text("gate: http://127.0.0.1:8000\nupstreams:\n  p:\n    tools: {}\n")
    answer = CliRunner().invoke(app, ["mcp-proxy", "--config", str(bad)])
    assert answer.exit_code == 2
    assert "exactly one of `command` and `url`" in answer.output


def test_the_example_target_refuses_a_refund_without_a_permit(tmp_path: Path) -> None:
    from mcp import StdioServerParameters

    calls = tmp_path / "calls.txt"
    server = StdioServerParameters(
        command=sys.executable,
        args=[str(EXAMPLE / "payments_server.py")],
        env={"PAYMENTS_CALLS_FILE": str(calls)},
    )

    async def scenario() -> None:
        async with Client(server) as client:  # straight to the target, around the proxy
            refused = await client.call_tool("refund", REFUND)
            assert refused.is_error
            assert "no Sluicegate permit" in _text(refused)
            forged = await client.call_tool("refund", REFUND, meta=permit_meta("a.b.c"))
            assert "permit refused: bad_signature" in _text(forged)

    asyncio.run(scenario())
    assert not calls.exists() or calls.read_text() == ""


def test_a_restarted_proxy_still_forwards_an_approved_call_once(
    database_url: str, tmp_path: Path
) -> None:
    url, agent, reviewer = _gate_store(database_url)
    calls = tmp_path / "calls.txt"
    calls.touch()

    async def call(proxy: str) -> Any:
        async with _session(proxy, agent) as client:
            return await client.call_tool("refund", REFUND)

    with serving(Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)) as gate:
        config = _config(gate, free_port(), calls)  # held calls live in the gate's store
        for proxy in _serve(proxy_app(config), config.listen.port):
            held = asyncio.run(call(proxy))
        decision_id = _text(held).split("decision ")[1].split(",")[0]
        world = {"gate": gate, "reviewer": reviewer}
        asyncio.run(_approve(world, decision_id))
        for proxy in _serve(proxy_app(config), config.listen.port):  # a new process's memory
            ran, again = asyncio.run(call(proxy)), asyncio.run(call(proxy))
    assert not ran.is_error, _text(ran)
    assert again.is_error
    assert calls.read_text().splitlines() == ["refund T-981 5000.0"]
