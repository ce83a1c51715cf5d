"""Retries: what is tried again, how long the client waits, and what is never repeated."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest
from sluicegate_client import AsyncGateClient, GateClient, GateError, RetryPolicy, keyed

DECISION = {
    "decision_id": "0193-d",
    "outcome": "allow",
    "risk_tier": 0,
    "reasons": [],
}
UNAVAILABLE = {"error": {"code": "store_unavailable", "message": "try again", "details": []}}
PROPOSAL = {"action": {"type": "knowledge.search", "environment": "production"}}
FAST = RetryPolicy(attempts=4, initial_seconds=0.001, max_wait_seconds=2.0)


def _gate(
    answer: Callable[[httpx.Request], httpx.Response], retry: RetryPolicy = FAST
) -> GateClient:
    return GateClient("http://gate.test", "k", retry=retry, transport=httpx.MockTransport(answer))


def _flaky(
    failures: list[httpx.Response | Exception], then: httpx.Response
) -> tuple[Callable[[httpx.Request], httpx.Response], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        return then

    return answer, seen


def test_a_503_is_tried_again_with_the_same_idempotency_key() -> None:
    answer, seen = _flaky(
        [httpx.Response(503, json=UNAVAILABLE), httpx.ConnectError("refused")],
        httpx.Response(201, json=DECISION),
    )
    with _gate(answer) as gate:
        assert gate.decide(PROPOSAL).decision_id == "0193-d"
    keys = {json.loads(request.content)["idempotency_key"] for request in seen}
    assert len(seen) == 3
    assert len(keys) == 1


def test_each_call_gets_its_own_key_unless_the_proposal_has_one() -> None:
    answer, seen = _flaky([], httpx.Response(201, json=DECISION))
    with _gate(answer) as gate:
        gate.decide(PROPOSAL)
        gate.decide(PROPOSAL)
        gate.decide(PROPOSAL | {"idempotency_key": "mine"})
    keys = [json.loads(request.content)["idempotency_key"] for request in seen]
    assert keys[0] != keys[1]
    assert keys[2] == "mine"
    assert keyed(PROPOSAL, "given")["idempotency_key"] == "given"


def test_the_client_waits_as_long_as_retry_after_asks() -> None:
    asked = httpx.Response(503, json=UNAVAILABLE, headers={"Retry-After": "0.3"})
    answer, seen = _flaky([asked], httpx.Response(201, json=DECISION))
    started = time.monotonic()
    with _gate(answer) as gate:
        gate.decide(PROPOSAL)
    # Backoff alone would have waited about a millisecond.
    assert time.monotonic() - started >= 0.3
    assert len(seen) == 2


def test_it_gives_up_after_its_attempts_with_the_gates_error() -> None:
    answer, seen = _flaky([httpx.Response(503, json=UNAVAILABLE)] * 10, httpx.Response(201))
    with _gate(answer) as gate, pytest.raises(GateError) as failed:
        gate.decide(PROPOSAL)
    assert len(seen) == 4
    assert failed.value.status == 503
    assert failed.value.code == "store_unavailable"


def test_a_refusal_is_not_tried_again() -> None:
    refused = {"error": {"code": "forbidden", "message": "not an agent key", "details": []}}
    answer, seen = _flaky([httpx.Response(403, json=refused)] * 3, httpx.Response(201))
    with _gate(answer) as gate, pytest.raises(GateError, match="not an agent key"):
        gate.decide(PROPOSAL)
    assert len(seen) == 1


def test_using_an_approval_is_not_repeated_once_the_request_was_sent() -> None:
    # A read timeout means the gate may have spent the approval: a repeat would be refused
    # as used and hide the first answer. A 503 or a refused connection did nothing.
    sent = httpx.ReadTimeout("no answer")
    answer, seen = _flaky([sent], httpx.Response(200))
    with _gate(answer) as gate, pytest.raises(GateError, match="could not be reached"):
        gate.proceed("0193-d", keyed(PROPOSAL))
    assert len(seen) == 1
    use = {"decision_id": "0193-d", "review_id": "r", "used_at": "2026-11-29T00:00:00Z"}
    answer, seen = _flaky([httpx.Response(503, json=UNAVAILABLE)], httpx.Response(200, json=use))
    with _gate(answer) as gate:
        assert gate.proceed("0193-d", keyed(PROPOSAL)).review_id == "r"
    assert len(seen) == 2


def test_a_read_that_timed_out_is_tried_again() -> None:
    status = DECISION | {"status": "allowed"}
    answer, seen = _flaky([httpx.ReadTimeout("slow")], httpx.Response(200, json=status))
    with _gate(answer) as gate:
        assert gate.get("0193-d").status == "allowed"
    assert len(seen) == 2


def test_report_sends_the_outcome() -> None:
    recorded = {"decision_id": "0193-d", "status": "executed", "missing_for_done": ["ticket"]}
    answer, seen = _flaky([], httpx.Response(200, json=recorded))
    with _gate(answer) as gate:
        result = gate.report("0193-d", "executed", artifact={"refund_id": "re_1"})
    assert result.status == "executed"
    assert seen[0].url.path == "/v1/decisions/0193-d/outcome"
    assert json.loads(seen[0].content) == {"status": "executed", "artifact": {"refund_id": "re_1"}}


def test_the_async_client_retries_the_same_way() -> None:
    answer, seen = _flaky(
        [httpx.Response(503, json=UNAVAILABLE), httpx.ConnectError("refused")],
        httpx.Response(201, json=DECISION),
    )

    async def ask() -> str:
        transport = httpx.MockTransport(answer)
        async with AsyncGateClient(
            "http://gate.test", "k", retry=FAST, transport=transport
        ) as gate:
            return (await gate.decide(PROPOSAL)).decision_id

    assert asyncio.run(ask()) == "0193-d"
    assert len({json.loads(request.content)["idempotency_key"] for request in seen}) == 1
