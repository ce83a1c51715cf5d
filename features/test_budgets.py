"""Runs features/budgets.feature: two gateways served on loopback over one store, SQLite or
PostgreSQL, and an agent asking over HTTP."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pytest_bdd import given, parsers, scenarios, then, when
from sqlalchemy import text, update

from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.decisions.tables import BUDGET_ENTRIES
from service.settings import Settings
from service.store.database import database_engine, migrate
from service.store.utc import utc_now
from tests.fixtures import RULES, RegoBackend
from tests.loopback import serving

# The store counts budgets, not Rego: the embedded engine is enough (and half the runs).
pytestmark = pytest.mark.usefixtures("budgets")
scenarios("budgets.feature")
_keys = itertools.count()
IN_TURN = r"(?P<count>\d+) invoice credits? of (?P<value>[\d,]+) USD, one after another"
AT_ONCE = r"(?P<count>\d+) invoice credits of (?P<value>[\d,]+) USD at once, over both gateways"


@pytest.fixture
def rego_backend() -> RegoBackend:
    return RegoBackend("rego-embedded")


@dataclass
class Budgets:
    """Two gateways on one store, the agent's key, and the answers so far."""

    database_url: str
    gateways: list[str] = field(default_factory=list)
    agent_key: str = ""
    reviewer_key: str = ""
    answers: list[dict[str, Any]] = field(default_factory=list)
    stack: ExitStack = field(default_factory=ExitStack)

    def ask(self, value: float, gateway: int = 0) -> dict[str, Any]:
        body = {
            "idempotency_key": f"credit-{next(_keys)}",
            "action": {
                "type": "billing.invoice.adjust",
                "environment": "production",
                "amount": {"value": value, "currency": "USD"},
            },
            "work_item": {"id": "WI-77", "type": "billing-dispute"},
            "justification": "goodwill credit",
            "confidence": 0.9,
        }
        answer = httpx.post(
            f"{self.gateways[gateway]}/v1/decisions",
            json=body,
            headers=self._as(self.agent_key),
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        decided: dict[str, Any] = answer.json() | {"_proposal": body}
        return decided

    @staticmethod
    def _as(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def budgets(database_url: str) -> Iterator[Budgets]:
    world = Budgets(database_url)
    yield world
    world.stack.close()


@given("two gateways on one store with the default rule pack")
def two_gateways(budgets: Budgets) -> None:
    engine = database_engine(budgets.database_url)
    migrate(engine)
    _, budgets.agent_key = create_key(engine, name="billing-bot", role=Role.AGENT, scopes=["*"])
    _, budgets.reviewer_key = create_key(
        engine, name="fin-lead", role=Role.REVIEWER, scopes=["group:finance-approvers"]
    )
    engine.dispose()
    # One audit signing key for both, as replicas share it (SQLite keeps one beside its file).
    settings = Settings(
        database_url=budgets.database_url,
        rules=RULES,
        audit_signing_key=SecretStr(new_private_pem()),
    )
    for _ in range(2):
        budgets.gateways.append(budgets.stack.enter_context(serving(settings)))


@given("a billing agent")
def billing_agent(budgets: Budgets) -> None:
    assert budgets.agent_key


def _amount(text_value: str) -> float:
    return float(text_value.replace(",", ""))


@when(parsers.re(f"the agent asks for {IN_TURN}"))
def ask_in_turn(budgets: Budgets, count: str, value: str) -> None:
    for _ in range(int(count)):
        budgets.answers.append(budgets.ask(_amount(value)))


@when(parsers.re(f"the agent asks for {AT_ONCE}"))
def ask_at_once(budgets: Budgets, count: str, value: str) -> None:
    with ThreadPoolExecutor(max_workers=int(count)) as pool:
        budgets.answers.extend(
            pool.map(lambda index: budgets.ask(_amount(value), index % 2), range(int(count)))
        )


@when("the agent reports the first credit failed")
def first_failed(budgets: Budgets) -> None:
    first = budgets.answers[0]["decision_id"]
    answer = httpx.post(
        f"{budgets.gateways[1]}/v1/decisions/{first}/outcome",
        json={"status": "failed"},
        headers=budgets._as(budgets.agent_key),
    )
    assert answer.status_code == 200, answer.text


@when("the first credit's permit has expired")
def first_permit_expired(budgets: Budgets) -> None:
    """The failed credit's share comes back at its permit's expiry, five minutes on: moved
    to a second ago here, as the time passing would."""
    first = budgets.answers[0]["decision_id"]
    engine = database_engine(budgets.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(BUDGET_ENTRIES)
                .where(BUDGET_ENTRIES.c.decision_id == first)
                .values(released_at=utc_now() - timedelta(seconds=1))
            )
    finally:
        engine.dispose()


@when("a finance approver approves it and the agent uses the approval")
def approve_and_use(budgets: Budgets) -> None:
    last = budgets.answers[-1]
    assert last["outcome"] == "route_to_human"
    approved = httpx.post(
        f"{budgets.gateways[0]}/v1/reviews/{last['review']['id']}/approve",
        json={},
        headers=budgets._as(budgets.reviewer_key),
    )
    assert approved.status_code == 200, approved.text
    used = httpx.post(
        f"{budgets.gateways[1]}/v1/decisions/{last['decision_id']}/proceed",
        json=last["_proposal"],
        headers=budgets._as(budgets.agent_key),
    )
    assert used.status_code == 200, used.text


def _through(answer: dict[str, Any]) -> bool:
    return answer["outcome"] in {"allow", "sample"}


@then(parsers.parse("{count:d} of them go through"))
def some_go_through(budgets: Budgets, count: int) -> None:
    assert [_through(a) for a in budgets.answers] == [True] * count


@then("it goes through")
def it_goes_through(budgets: Budgets) -> None:
    assert _through(budgets.answers[-1]), budgets.answers[-1]["reasons"]


@then(parsers.parse("it waits in the {queue} queue"))
def it_waits(budgets: Budgets, queue: str) -> None:
    last = budgets.answers[-1]
    assert last["outcome"] == "route_to_human"
    assert last["review"]["queue"] == queue
    assert any(r["rule"] == "budget.invoice-credits-per-agent" for r in last["reasons"])


@then(parsers.parse("the reason names {budget}, {spent} USD spent and the limit of {limit} USD"))
def reason_names(budgets: Budgets, budget: str, spent: str, limit: str) -> None:
    (reason,) = [r for r in budgets.answers[-1]["reasons"] if r["rule"] == f"budget.{budget}"]
    assert f"spent {spent} USD" in reason["message"]
    assert f"limit of {limit} USD" in reason["message"]


@then(parsers.parse("exactly {through:d} of them go through and {waiting:d} wait for a person"))
def exactly(budgets: Budgets, through: int, waiting: int) -> None:
    outcomes = [a["outcome"] for a in budgets.answers]
    assert sum(_through(a) for a in budgets.answers) == through, outcomes
    assert outcomes.count("route_to_human") == waiting, outcomes


@then(parsers.parse("the budget shows {spent:d} USD spent by the agent"))
def budget_shows(budgets: Budgets, spent: int) -> None:
    engine = database_engine(budgets.database_url)
    with engine.connect() as connection:
        total = connection.execute(
            text(
                "SELECT SUM(amount) FROM budget_entries WHERE budget = 'invoice-credits-per-agent'"
                " AND released_at IS NULL"
            )
        ).scalar()
    engine.dispose()
    assert total == spent
