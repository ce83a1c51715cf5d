"""The client on its own: answers from a scripted transport, no gateway, nothing of the server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sluicegate_client import (
    ActionDenied,
    AwaitingReview,
    GateClient,
    GateError,
    Outcome,
    RetryPolicy,
    gated,
)

DECISION: dict[str, Any] = {
    "decision_id": "0193-d",
    "outcome": "allow",
    "risk_tier": 0,
    "reversibility": "reversible",
    "reasons": [{"rule": "autonomy.tier", "outcome": "allow", "message": "tier 0"}],
    "review": None,
    "fail_closed": None,
    "policy": {"revision": "sha256:r", "engine": "rego-embedded"},
    "audit": {"seq": 3, "hash": "sha256:h"},
    "decided_at": "2026-11-29T00:00:00Z",
}
REVIEW = {
    "id": "0193-r",
    "queue": "finance-approvers",
    "due_at": "2026-11-29T04:00:00Z",
    "on_timeout": "deny",
}
PROPOSAL = {"action": {"type": "payments.refund.issue", "environment": "production"}}


def _gate(answer: Callable[[httpx.Request], httpx.Response]) -> GateClient:
    return GateClient(
        "http://gate.test",
        "sg_k_secret",
        retry=RetryPolicy(initial_seconds=0.001),
        transport=httpx.MockTransport(answer),
    )


def test_it_sends_the_key_and_the_proposal_and_reads_the_decision() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=DECISION | {"newer_field": 1})

    with _gate(answer) as gate:
        decision = gate.decide(PROPOSAL)
    assert decision.outcome is Outcome.ALLOW
    assert seen[0].headers["authorization"] == "Bearer sg_k_secret"
    sent = json.loads(seen[0].content)
    assert sent.pop("idempotency_key")  # a fresh key, since the proposal had none
    assert sent == PROPOSAL


def test_a_denial_says_denied_with_the_reasons() -> None:
    denied = DECISION | {
        "outcome": "deny",
        "reasons": [
            {"rule": "fail_closed.agent_out_of_scope", "outcome": "deny", "message": "not yours"}
        ],
    }
    with _gate(lambda _: httpx.Response(201, json=denied)) as gate:

        @gated(gate, lambda: PROPOSAL)
        def refund() -> None:
            raise AssertionError("must not run")

        with pytest.raises(ActionDenied, match=r"fail_closed\.agent_out_of_scope") as refused:
            refund()
    assert refused.value.how == "denied"


def test_a_rejection_says_rejected_and_carries_the_note() -> None:
    routed = DECISION | {"outcome": "route_to_human", "review": REVIEW}
    rejected = routed | {
        "status": "rejected",
        "review": REVIEW | {"state": "rejected", "note": "duplicate of INV-7"},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, json=routed)
        return httpx.Response(200, json=rejected)

    with _gate(answer) as gate:

        @gated(gate, lambda: PROPOSAL, wait=True, wait_seconds=1)
        def refund() -> None:
            raise AssertionError("must not run")

        with pytest.raises(ActionDenied, match="duplicate of INV-7") as refused:
            refund()
    assert refused.value.how == "rejected"
    assert refused.value.note == "duplicate of INV-7"


def test_an_expired_review_says_expired() -> None:
    expired = DECISION | {"outcome": "route_to_human", "review": REVIEW, "status": "expired"}
    routed = DECISION | {"outcome": "route_to_human", "review": REVIEW}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201 if request.method == "POST" else 200,
            json=(routed if request.method == "POST" else expired),
        )

    with _gate(answer) as gate, pytest.raises(ActionDenied, match=r"^expired") as refused:
        gated(gate, lambda: PROPOSAL, wait=True, wait_seconds=1)(lambda: None)()
    assert refused.value.how == "expired"


def test_routed_without_waiting_names_the_queue() -> None:
    routed = DECISION | {"outcome": "route_to_human", "review": REVIEW}
    answer = httpx.Response(201, json=routed)
    with _gate(lambda _: answer) as gate, pytest.raises(AwaitingReview, match="finance") as waiting:
        gated(gate, lambda: PROPOSAL)(lambda: None)()
    assert waiting.value.decision_id == "0193-d"


def test_an_unreachable_or_failing_gate_never_runs_the_tool() -> None:
    def unreachable(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    error = {"error": {"code": "audit_unavailable", "message": "no record", "details": []}}
    for answer in (unreachable, lambda _: httpx.Response(503, json=error)):
        with _gate(answer) as gate, pytest.raises(GateError):
            gated(gate, lambda: PROPOSAL)(lambda: None)()
