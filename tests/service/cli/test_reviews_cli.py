"""`sluicegate reviews`: a reviewer works the queue from a terminal, against a served gate, and
the desk's rules hold there as they do on the page."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from service.auth.keys import create_key
from service.auth.roles import Role
from service.cli.main import app
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, REFUND, RULES
from tests.loopback import serving

runner = CliRunner()


@pytest.fixture
def gate(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    database = database_engine(database_url)
    migrate(database)
    keys = {
        name: create_key(database, name=name, role=role, scopes=scopes)[1]
        for name, role, scopes in (
            ("bot", Role.AGENT, ["*"]),
            ("fiona", Role.REVIEWER, ["group:finance-approvers"]),
            ("sam", Role.REVIEWER, ["group:support-leads"]),
        )
    }
    database.dispose()
    settings = Settings(database_url=database_url, rules=RULES, audit_signing_key=AUDIT_KEY)
    with serving(settings) as url:
        monkeypatch.setenv("SLUICEGATE_GATE_URL", url)
        decided = httpx.post(
            f"{url}/v1/decisions", json=REFUND, headers={"Authorization": f"Bearer {keys['bot']}"}
        ).json()
        assert decided["outcome"] == "route_to_human"
        yield {**keys, "decision": decided["decision_id"]}


def _as(key: str, *arguments: str) -> tuple[int, str]:
    done = runner.invoke(app, ["reviews", *arguments], env={"SLUICEGATE_KEY": key})
    return done.exit_code, done.output


def test_a_reviewer_lists_reads_and_approves_by_the_decision_id(gate: dict[str, str]) -> None:
    code, listed = _as(gate["fiona"], "list", "--state", "pending")
    assert code == 0, listed
    assert f"decision {gate['decision']}" in listed
    assert "finance-approvers" in listed
    review_id = listed.split()[0]

    code, shown = _as(gate["fiona"], "show", gate["decision"])  # the id a held call names
    assert code == 0, shown
    packet = json.loads(shown)
    assert packet["id"] == review_id
    assert packet["proposal"]["action"]["type"] == "payments.refund.issue"

    code, approved = _as(gate["fiona"], "approve", gate["decision"], "--note", "checked")
    assert code == 0, approved
    assert approved.strip() == f"{review_id}: approved (1 of 1 approvals)"
    code, again = _as(gate["fiona"], "approve", review_id)
    assert code == 1
    assert "refused:" in again


def test_the_desk_rules_hold_from_the_terminal(gate: dict[str, str]) -> None:
    code, answer = _as(gate["bot"], "approve", gate["decision"])  # an agent's key
    assert code == 1
    assert "refused: forbidden" in answer
    code, answer = _as(gate["sam"], "approve", gate["decision"])  # not in this queue
    assert code == 1
    assert "refused: not_found" in answer
    code, listed = _as(gate["sam"], "list")
    assert (code, listed) == (0, "")
    code, answer = _as(gate["fiona"], "reject", gate["decision"])  # a rejection says why
    assert code == 2
    assert "--note" in answer


def test_without_a_key_or_a_gate_it_says_so() -> None:
    code, answer = _as("", "list")
    assert code == 2
    assert "SLUICEGATE_KEY" in answer
    done = runner.invoke(app, ["reviews", "list", "--gate", "http://127.0.0.1:9", "--key", "sg_x"])
    assert done.exit_code == 1
    assert "cannot be reached" in done.output
