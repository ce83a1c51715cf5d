"""The two framework examples, run as a user runs them, against a gateway served on loopback.

Each example exits 0 only when a low-risk tool ran, a high-risk tool paused, was approved and
ran exactly once with its outcome reported, and a denied tool never ran. The gate's log must
show their decisions: labelled with the example, one of each outcome, the approval used and
the outcome reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import RULES
from tests.loopback import serving

EXAMPLES = Path(__file__).parents[2] / "examples"


@dataclass(frozen=True)
class Served:
    url: str
    keys: dict[str, str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'examples.db'}"
    engine = database_engine(url)
    migrate(engine)
    keys = {
        "agent": create_key(engine, name="example-agent", role=Role.AGENT, scopes=["*"])[1],
        "reviewer": create_key(
            engine, name="finance-lead", role=Role.REVIEWER, scopes=["group:finance-approvers"]
        )[1],
        "auditor": create_key(engine, name="example-auditor", role=Role.AUDITOR, scopes=[])[1],
    }
    engine.dispose()
    with serving(Settings(database_url=url, rules=RULES)) as base:
        yield Served(base, keys)


def _events(served: Served, **query: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{served.url}/v1/audit/events",
        params=query | {"limit": "200"},
        headers={"Authorization": f"Bearer {served.keys['auditor']}"},
    )
    answer.raise_for_status()
    events: list[dict[str, Any]] = answer.json()["events"]
    return events


@pytest.mark.integration
@pytest.mark.parametrize("example", ["langgraph", "openai-agents"])
def test_the_example_runs_against_a_served_gateway(served: Served, example: str) -> None:
    environment = os.environ | {
        "SLUICEGATE_URL": served.url,
        "SLUICEGATE_KEY": served.keys["agent"],
        "SLUICEGATE_REVIEWER_KEY": served.keys["reviewer"],
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / example / "main.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout

    decisions = [
        event["event"]
        for event in _events(served, kind="decision")
        if event["event"]["proposal"].get("labels", {}).get("example") == example
    ]
    outcomes = sorted(decision["decision"]["outcome"] for decision in decisions)
    assert outcomes == ["allow", "deny", "route_to_human"]
    routed = next(d for d in decisions if d["decision"]["outcome"] == "route_to_human")
    routed_id = routed["decision"]["decision_id"]
    kinds = [event["kind"] for event in _events(served, decision_id=routed_id)]
    assert kinds.count("approval_used") == 1
    assert "review_approved" in kinds
    assert kinds.count("outcome_reported") == 1
    assert "outcome_violation" not in kinds
