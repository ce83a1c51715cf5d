"""The gate in process: the same decision and record as over HTTP, agents named by the caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.audit.verify import verify_store
from service.auth.roles import Role
from service.embedded import open_gate
from tests.fixtures import REFUND, RULES


def test_decisions_in_process_are_recorded_like_any_other(tmp_path: Path) -> None:
    gate = open_gate(database_url=f"sqlite:///{tmp_path / 'gate.db'}", rules=RULES)
    try:
        routed = gate.decide(REFUND, agent="billing-bot")
        again = gate.decide(REFUND | {"idempotency_key": "k1"}, agent="billing-bot")
        replay = asyncio.run(gate.adecide(REFUND | {"idempotency_key": "k1"}, agent="billing-bot"))
        assert routed.outcome.value == "route_to_human"
        assert routed.review is not None
        assert routed.review.queue == "finance-approvers"
        assert routed.audit is not None
        assert again.audit is not None
        assert again.audit.seq > routed.audit.seq
        assert replay == again  # the first answer, not a new decision
        runtime = gate._runtime
        verified = verify_store(runtime.database, runtime.signing_key.public_key())
        assert verified.ok
        assert verified.events == again.audit.seq  # key created, pack activated, 2 decisions
    finally:
        gate.close()


def test_a_name_that_is_not_an_agent_is_refused(tmp_path: Path) -> None:
    from service.auth.keys import create_key

    gate = open_gate(database_url=f"sqlite:///{tmp_path / 'gate.db'}", rules=RULES)
    try:
        create_key(gate._runtime.database, name="fiona", role=Role.REVIEWER, scopes=[])
        with pytest.raises(ValueError, match="is a person; only agents hold such keys"):
            gate.decide(REFUND, agent="fiona")
    finally:
        gate.close()
