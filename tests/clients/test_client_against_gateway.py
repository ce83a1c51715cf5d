"""The agent-side client and decorator against a real gateway served by uvicorn on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sluicegate_client import (
    ActionDenied,
    AsyncGateClient,
    AwaitingReview,
    GateClient,
    GateError,
    gated,
)

from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings
from service.store.database import database_engine, migrate
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import free_port, serving


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[str, str]]:
    url = database_url
    engine = database_engine(url)
    migrate(engine)
    _, key = create_key(engine, name="client-agent", role=Role.AGENT, scopes=["email.*", "crm.*"])
    engine.dispose()
    with serving(Settings(database_url=url, rules=RULES, audit_signing_key=AUDIT_KEY)) as base:
        yield base, key


DRAFT = {"action": {"type": "email.customer.draft", "environment": "sandbox"}}
SEND = {
    "action": {"type": "email.customer.send", "environment": "production"},
    "justification": "answer the customer",
}


def test_decorator_runs_the_tool_only_when_allowed(served: tuple[str, str]) -> None:
    base, key = served
    ran: list[str] = []
    with GateClient(base, key) as client:

        @gated(
            client,
            lambda to, env: {
                "action": {"type": f"email.customer.{to}", "environment": env},
                "justification": "test",
            },
        )
        def email(to: str, env: str) -> str:
            ran.append(to)
            return "done"

        assert email("draft", "sandbox") == "done"
        with pytest.raises(AwaitingReview) as waiting:
            email("send", "production")
        assert waiting.value.decision_id
        assert client.get(waiting.value.decision_id).outcome.value == "route_to_human"
    assert ran == ["draft"]


def test_denied_actions_raise(served: tuple[str, str]) -> None:
    base, key = served
    with GateClient(base, key) as client:
        refund = {
            "action": {
                "type": "payments.refund.issue",
                "environment": "sandbox",
                "amount": {"value": 1, "currency": "USD"},
            },
            "work_item": {"id": "W"},
            "justification": "x",
        }

        @gated(client, lambda: refund)
        def pay() -> None:
            raise AssertionError("must not run")

        with pytest.raises(ActionDenied, match="agent_out_of_scope"):
            pay()


def test_async_client(served: tuple[str, str]) -> None:
    base, key = served

    async def scenario() -> str:
        async with AsyncGateClient(base, key) as client:

            @gated(client, lambda: DRAFT)
            async def draft() -> str:
                return "drafted"

            return await draft()

    assert asyncio.run(scenario()) == "drafted"


def test_an_unreachable_gate_never_allows() -> None:
    with GateClient(f"http://127.0.0.1:{free_port()}", "sg_x_y", timeout=0.5) as client:

        @gated(client, lambda: DRAFT)
        def tool() -> None:
            raise AssertionError("must not run")

        with pytest.raises(GateError):
            tool()
