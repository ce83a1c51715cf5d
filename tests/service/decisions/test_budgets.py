"""Budgets, decided with the record: counts and money, per agent and per owner, the rolling
window, currencies a budget does not list, and what does not spend (the features show the
concurrent case on both stores: features/budgets.feature)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select, update

from policy.proposal import Proposal
from service.auth.keys import create_key
from service.auth.principals import Principal, principal_named
from service.auth.roles import Role
from service.decisions.outcomes import OutcomeReport, report_outcome
from service.decisions.proceed import proceed
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
    answer: dict[str, Any] = json.loads(recorded.answer)
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


def _reported(runtime: Runtime, agent: Principal, decision_id: str, status: str) -> None:
    report = OutcomeReport.model_validate({"status": status})
    report_outcome(
        runtime.database, runtime.pack, agent, decision_id, report, permits=runtime.permits
    )


def _given_back_at(runtime: Runtime, decision_id: str) -> Any:
    with runtime.database.connect() as connection:
        return connection.execute(
            select(BUDGET_ENTRIES.c.released_at).where(BUDGET_ENTRIES.c.decision_id == decision_id)
        ).scalar_one()


def _expire_now(runtime: Runtime, decision_id: str) -> None:
    """Move the share's return to a second ago, as if its permit's five minutes had passed."""
    with writing(runtime.database) as connection:
        connection.execute(
            update(BUDGET_ENTRIES)
            .where(BUDGET_ENTRIES.c.decision_id == decision_id)
            .values(released_at=utc_now() - timedelta(seconds=1))
        )


@pytest.mark.parametrize("reports", [["failed"], ["executed", "rolled_back"]])
def test_a_share_comes_back_only_once_its_permit_can_no_longer_be_used(
    runtime: Runtime, reports: list[str]
) -> None:
    """An agent at its budget reported `failed` on an earlier credit and got its share back
    at once, while that credit's permit still verified at the target: 4,500 USD of valid
    permits against a 3,000 USD budget. The share now comes back when the permit expires."""
    agent = _agent(runtime, "bot")
    first = _decide(runtime, agent, _credit(600))
    assert first["outcome"] == "sample"
    for status in reports:
        _reported(runtime, agent, first["decision_id"], status)
    over = _decide(runtime, agent, _credit(600))
    assert over["outcome"] == "route_to_human"  # the first permit still verifies: 600 counts
    assert "budget.credits-per-owner" in _rules(over)
    expiry = datetime.fromtimestamp(_claims(first["permit"])["exp"], UTC)
    assert _given_back_at(runtime, first["decision_id"]) == expiry
    _expire_now(runtime, first["decision_id"])
    assert _decide(runtime, agent, _credit(600))["outcome"] == "sample"


def test_a_used_approval_gives_its_share_back_when_its_permit_expires(runtime: Runtime) -> None:
    agent = _agent(runtime, "bot")
    reviewer, _ = create_key(
        runtime.database, name="fiona", role=Role.REVIEWER, scopes=["group:finance-approvers"]
    )
    credit = _credit(2000)
    routed = _decide(runtime, agent, credit)
    assert routed["outcome"] == "route_to_human"
    runtime.desk.approve(routed["review"]["id"], reviewer)
    use = asyncio.run(
        proceed(
            routed["decision_id"],
            agent,
            Proposal.model_validate(credit),
            desk=runtime.desk,
            permits=runtime.permits,
            pack=runtime.pack,
        )
    )
    assert use.permit is not None
    _reported(runtime, agent, routed["decision_id"], "failed")
    expiry = datetime.fromtimestamp(_claims(use.permit)["exp"], UTC)
    assert _given_back_at(runtime, routed["decision_id"]) == expiry > utc_now()


def _claims(permit: str) -> dict[str, Any]:
    payload = permit.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims
