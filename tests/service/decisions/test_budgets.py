"""Budgets, decided with the record: counts and money, per agent and per owner, the rolling
window, currencies a budget does not list, and what does not spend (the features show the
concurrent case on both stores: features/budgets.feature)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from policy.proposal import Proposal
from service.auth.keys import create_key
from service.auth.principals import Principal, principal_named
from service.auth.roles import Role
from service.decisions.tables import BUDGET_ENTRIES
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import writing
from service.store.utc import utc_now
from tests.fixtures import AUDIT_KEY

BUDGETS = {
    "emails": {"window": "PT1H", "effects": ["send"], "customer_facing": True, "count": 3,
               "when_exceeded": "deny"},
    "credits-per-owner": {"per": "owner", "window": "PT24H",
                          "action_types": ["billing.invoice.*"], "limit": {"USD": 1000}},
}  # fmt: skip


@pytest.fixture
def runtime(database_url: str, pack_copy: Path) -> Iterator[Runtime]:
    (pack_copy / "data" / "budgets.yaml").write_text(yaml.safe_dump(BUDGETS))
    built = Runtime(
        Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=pack_copy)
    )
    yield built
    built.close()


def _agent(runtime: Runtime, name: str, owner: str | None = None) -> Principal:
    owner_id = principal_named(runtime.database, owner) if owner else None
    agent, _ = create_key(
        runtime.database, name=name, role=Role.AGENT, scopes=["*"], owner_id=owner_id
    )
    return agent


def _decide(runtime: Runtime, agent: Principal, body: dict[str, Any]) -> dict[str, Any]:
    recorded = asyncio.run(runtime.decider.decide(Proposal.model_validate(body), agent))
    answer: dict[str, Any] = json.loads(recorded.body)
    return answer


def _email() -> dict[str, Any]:
    return {"action": {"type": "email.customer.send", "environment": "sandbox"},
            "justification": "reply", "confidence": 0.9}  # fmt: skip


def _credit(value: float, currency: str = "USD") -> dict[str, Any]:
    return {
        "action": {"type": "billing.invoice.adjust", "environment": "production",
                   "amount": {"value": value, "currency": currency}},
        "work_item": {"id": "WI-5"}, "justification": "goodwill", "confidence": 0.9,
    }  # fmt: skip


def _rules(answer: dict[str, Any]) -> list[str]:
    return [reason["rule"] for reason in answer["reasons"]]


def test_a_count_budget_denies_past_its_count_with_a_reason_that_says_so(
    runtime: Runtime,
) -> None:
    agent = _agent(runtime, "mailer")
    outcomes = [_decide(runtime, agent, _email())["outcome"] for _ in range(3)]
    assert outcomes == ["sample"] * 3
    fourth = _decide(runtime, agent, _email())
    assert fourth["outcome"] == "deny"
    (reason,) = [r for r in fourth["reasons"] if r["rule"] == "budget.emails"]
    assert (
        reason["message"] == "budget emails: this agent did 3 of 3 allowed actions in the last 1 h"
    )
    other = _agent(runtime, "other-mailer")  # per agent: another agent has its own count
    assert _decide(runtime, other, _email())["outcome"] == "sample"


def test_an_owner_budget_adds_up_every_agent_of_the_owner(runtime: Runtime) -> None:
    create_key(runtime.database, name="dana", role=Role.REVIEWER, scopes=[])
    first, second = _agent(runtime, "bot-1", owner="dana"), _agent(runtime, "bot-2", owner="dana")
    loner = _agent(runtime, "bot-3")
    assert _decide(runtime, first, _credit(600))["outcome"] == "sample"
    over = _decide(runtime, second, _credit(600))
    assert over["outcome"] == "route_to_human"
    assert "this owner's agents spent 600.00 USD" in over["reasons"][-1]["message"]
    assert _decide(runtime, loner, _credit(600))["outcome"] == "sample"  # counts alone


def test_a_currency_the_budget_does_not_list_counts_as_over(runtime: Runtime) -> None:
    answer = _decide(runtime, _agent(runtime, "bot"), _credit(10, "EUR"))
    assert answer["outcome"] == "route_to_human"
    assert "budget.credits-per-owner" in _rules(answer)


def test_only_the_window_counts_and_what_waits_or_is_denied_spends_nothing(
    runtime: Runtime,
) -> None:
    agent = _agent(runtime, "bot")
    assert _decide(runtime, agent, _credit(900))["outcome"] == "sample"
    routed = _decide(runtime, agent, _credit(900))
    assert routed["outcome"] == "route_to_human"  # over: it spends nothing while it waits
    assert _decide(runtime, agent, _credit(100))["outcome"] == "sample"  # 900 + 100 fits
    with writing(runtime.database) as connection:
        connection.execute(
            update(BUDGET_ENTRIES).values(counted_at=utc_now() - timedelta(hours=25))
        )
    assert _decide(runtime, agent, _credit(1000))["outcome"] == "sample"  # a new day


def test_a_retry_of_an_over_budget_decision_gets_the_same_answer(runtime: Runtime) -> None:
    agent = _agent(runtime, "bot")
    _decide(runtime, agent, _credit(1000))
    keyed = _credit(500) | {"idempotency_key": "credit-2"}
    first, again = _decide(runtime, agent, keyed), _decide(runtime, agent, keyed)
    assert first == again
    assert first["outcome"] == "route_to_human"
