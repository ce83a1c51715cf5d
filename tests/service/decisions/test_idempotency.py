"""One idempotency path: retries with one key, racing through two gateways on one store, give
one decision and nothing fails (SQLite, and PostgreSQL where two replicas really race)."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from policy.proposal import Proposal
from service.audit.signing import new_private_pem
from service.auth.keys import create_key
from service.auth.roles import Role
from service.decisions.record import Recorded
from service.errors import IdempotencyConflict
from service.runtime import Runtime
from service.settings import Settings
from tests.fixtures import REFUND, RULES

ROUNDS = 15


def test_racing_retries_through_two_gateways_get_one_decision(database_url: str) -> None:
    settings = Settings(
        database_url=database_url, rules=RULES, audit_signing_key=SecretStr(new_private_pem())
    )
    first, second = Runtime(settings), Runtime(settings)  # two replicas' writers
    try:
        agent, _ = create_key(first.database, name="agent", role=Role.AGENT, scopes=["*"])

        async def race(key: str) -> list[Recorded]:
            proposal = Proposal.model_validate(REFUND | {"idempotency_key": key})
            return list(
                await asyncio.gather(
                    first.decider.decide(proposal, agent),
                    second.decider.decide(proposal, agent),
                    first.decider.decide(proposal, agent),
                    second.decider.decide(proposal, agent),
                )
            )

        for round_ in range(ROUNDS):
            answers = asyncio.run(race(f"refund-{round_}"))
            assert len({a.decision_id for a in answers}) == 1
            assert len({a.body for a in answers}) == 1
            assert sum(not a.replayed for a in answers) == 1

        other = Proposal.model_validate(REFUND | {"idempotency_key": "refund-0", "confidence": 0.5})
        try:
            asyncio.run(first.decider.decide(other, agent))
        except IdempotencyConflict:
            pass
        else:
            raise AssertionError("the same key with another body must conflict")
    finally:
        first.close()
        second.close()
