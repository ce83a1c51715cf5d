"""One structured line per request: method, route template, status, duration, principal and
decision id; never a key or a body."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from service.request_log import JsonFormatter
from tests.fixtures import REFUND


def test_each_request_is_one_line_without_secrets(
    client: TestClient, agent_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sluicegate.requests")
    made = client.post("/v1/decisions", json=REFUND, headers=agent_headers).json()
    client.get(f"/v1/decisions/{made['decision_id']}", headers=agent_headers)
    client.get("/v1/decisions/nope", headers={"Authorization": "Bearer sg_x_wrong"})
    lines = [r for r in caplog.records if r.name == "sluicegate.requests"]
    assert [(r.request["method"], r.request["route"], r.request["status"]) for r in lines] == [  # type: ignore[attr-defined]
        ("POST", "/v1/decisions", 201),
        ("GET", "/v1/decisions/{decision_id}", 200),
        ("GET", "/v1/decisions/{decision_id}", 401),
    ]
    assert lines[0].request["decision_id"] == made["decision_id"]  # type: ignore[attr-defined]
    assert lines[0].request["principal"].startswith("test-agent")  # type: ignore[attr-defined]
    assert lines[2].request["principal"] is None  # type: ignore[attr-defined]
    key = agent_headers["Authorization"].split()[1]
    for record in lines:
        formatted = JsonFormatter().format(record)
        assert key not in formatted
        assert "duplicate charge" not in formatted  # nothing of the body
        assert json.loads(formatted)["duration_ms"] >= 0
