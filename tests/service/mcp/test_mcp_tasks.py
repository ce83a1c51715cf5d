"""MCP Tasks for held calls, with a real requester: the official TypeScript SDK's client and
`@modelcontextprotocol/ext-tasks` (tests/service/mcp/requester/), against two proxy replicas
on one gate. A routed refund becomes a task; the process that made the call stops; a person
approves; another process resumes the task from its reference against the other replica,
and the refund runs once. A proxy restarted meanwhile loses nothing: the tasks are the gate's
held calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest

from service.mcp.server import proxy_app
from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import free_port, serving, serving_app
from tests.service.mcp.node_clients import run_node
from tests.service.mcp.test_mcp_proxy import REFUND, _config, _gate_store


def _requester(node: str, *arguments: str) -> dict[str, Any]:
    return run_node(node, "requester.mjs", *arguments)


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A gate and the target's call log; the tests start the proxy replicas themselves."""
    url, agent, reviewer = _gate_store(database_url)
    calls = tmp_path / "calls.txt"
    calls.touch()
    settings = Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)
    with serving(settings, port=free_port()) as gate:
        yield {
            "gate": gate,
            "database_url": url,
            "agent": agent,
            "reviewer": reviewer,
            "calls": calls,
        }


@contextmanager
def _replica(world: dict[str, Any], port: int) -> Iterator[str]:
    """One proxy replica on `port`: its MCP endpoint."""
    config = _config(world["gate"], port, world["calls"])
    with serving_app(proxy_app(config), port=port) as url:
        yield f"{url}/mcp"


def _review(world: dict[str, Any], decision_id: str, step: str, body: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {world['reviewer']}"}
    status = httpx2.get(
        f"{world['gate']}/v1/decisions/{decision_id}",
        headers={"Authorization": f"Bearer {world['agent']}"},
    ).json()
    done = httpx2.post(
        f"{world['gate']}/v1/reviews/{status['review']['id']}/{step}", json=body, headers=headers
    )
    assert done.status_code == 200, done.text


def _decision_of(world: dict[str, Any], task_id: str) -> str:
    held = httpx2.get(
        f"{world['gate']}/v1/held-calls/{task_id}",
        headers={"Authorization": f"Bearer {world['agent']}"},
    ).json()
    return str(held["decision_id"])


def _text(outcome: dict[str, Any]) -> str:
    return " ".join(block.get("text", "") for block in outcome["result"]["content"])


def test_a_held_call_is_a_task_that_completes_on_approval_on_any_replica(
    node: str, world: dict[str, Any]
) -> None:
    first_port, second_port = free_port(), free_port()
    with _replica(world, first_port) as first:
        made = _requester(node, "call", first, world["agent"], "refund", json.dumps(REFUND))
    # The first replica is gone (a restart, or a crash) while the task is pending.
    assert made["kind"] == "task", made
    assert made["era"] == "modern"
    assert world["calls"].read_text() == ""  # held: nothing reached the target
    reference = json.dumps(made["reference"])
    _review(world, _decision_of(world, made["taskId"]), "approve", {"note": "checked"})

    with _replica(world, second_port) as second, _replica(world, first_port) as restarted:
        settled = _requester(node, "settle", second, world["agent"], reference)
        assert settled["outcome"]["status"] == "completed", settled
        assert "refunded 5000" in _text(settled["outcome"])
        again = _requester(node, "settle", restarted, world["agent"], reference)
    assert again["outcome"] == settled["outcome"]  # the stored result: forwarded once
    assert world["calls"].read_text().splitlines() == ["refund T-981 5000.0"]


def test_a_rejected_task_completes_as_a_tool_error_with_the_note(
    node: str, world: dict[str, Any]
) -> None:
    with _replica(world, free_port()) as proxy:
        made = _requester(node, "call", proxy, world["agent"], "refund", json.dumps(REFUND))
        decision_id = _decision_of(world, made["taskId"])
        _review(world, decision_id, "reject", {"note": "duplicate of T-970"})
        settled = _requester(node, "settle", proxy, world["agent"], json.dumps(made["reference"]))
    outcome = settled["outcome"]
    assert outcome["status"] == "completed"
    assert outcome["result"]["isError"] is True
    assert "rejected" in _text(outcome)
    assert "duplicate of T-970" in _text(outcome)
    assert world["calls"].read_text() == ""


def test_cancelling_a_task_withdraws_the_proposal(node: str, world: dict[str, Any]) -> None:
    with _replica(world, free_port()) as proxy:
        made = _requester(node, "call", proxy, world["agent"], "refund", json.dumps(REFUND))
        reference = json.dumps(made["reference"])
        assert _requester(node, "cancel", proxy, world["agent"], reference) == {"cancelled": True}
        settled = _requester(node, "settle", proxy, world["agent"], reference)
    assert settled["outcome"]["status"] == "cancelled"
    status = httpx2.get(
        f"{world['gate']}/v1/decisions/{_decision_of(world, made['taskId'])}",
        headers={"Authorization": f"Bearer {world['agent']}"},
    ).json()
    assert status["status"] == "withdrawn"
    assert status["review"]["state"] == "withdrawn"
    assert world["calls"].read_text() == ""


def test_another_agent_cannot_read_or_cancel_the_task(node: str, world: dict[str, Any]) -> None:
    other = create_key_for(world, "other-bot")
    with _replica(world, free_port()) as proxy:
        made = _requester(node, "call", proxy, world["agent"], "refund", json.dumps(REFUND))
        for method in ("tasks/get", "tasks/cancel"):
            answer = _raw(proxy, other, method, {"taskId": made["taskId"]})
            assert answer["error"]["code"] == -32602, answer
            assert "not_found" in answer["error"]["message"]


def create_key_for(world: dict[str, Any], name: str) -> str:
    """Another agent's key, on the same gate."""
    from service.auth.keys import create_key
    from service.auth.roles import Role
    from service.store.database import database_engine

    database = database_engine(world["database_url"])
    try:
        return create_key(database, name=name, role=Role.AGENT, scopes=["*"])[1]
    finally:
        database.dispose()


def _raw(proxy: str, key: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One 2026-07-28 request, as the requester frames it."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "probe", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        },
    }
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": method,
    }
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params | {"_meta": meta}}
    answer: dict[str, Any] = httpx2.post(proxy, json=body, headers=headers).json()
    return answer
