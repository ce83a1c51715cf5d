"""`POST /v1/decisions` and `GET /v1/decisions/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from policy.decision import Decision
from policy.proposal import Proposal
from service.api.dependencies import AgentDep, DecisionReaderDep, GatewayDep
from service.api.proposal_body import parse_proposal
from service.errors import ErrorBody

router = APIRouter(prefix="/v1/decisions", tags=["decisions"])

_EXAMPLE: dict[str, Any] = {
    "idempotency_key": "refund-WI-981-1",
    "action": {
        "type": "payments.refund.issue",
        "target": "stripe",
        "environment": "production",
        "amount": {"value": 5000, "currency": "USD"},
        "customer_facing": True,
    },
    "justification": "duplicate charge on invoice INV-2211",
    "confidence": 0.92,
    "work_item": {"id": "WI-981", "type": "billing-dispute"},
    "labels": {"tenant": "acme"},
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "invalid JSON or nesting too deep",
        401: "no valid API key",
        403: "the key is not an agent's",
        409: "idempotency key reused with another body",
        413: "body too large",
        422: "body does not match the schema",
        503: "the audit record could not be committed; no decision was issued",
    }.items()
}
_JSON = "application/json"


@router.post(
    "",
    status_code=201,
    response_model=Decision,
    responses={
        200: {"model": Decision, "description": "a replay of an idempotent request"},
        **_ERRORS,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                _JSON: {"schema": Proposal.model_json_schema(by_alias=True), "example": _EXAMPLE}
            },
        }
    },
    summary="Ask the gate before acting",
)
async def create_decision(request: Request, gateway: GatewayDep, agent: AgentDep) -> Response:
    """Decide a proposal; the answer comes only after its audit record is committed."""
    proposal = parse_proposal(await request.body())
    recorded = await gateway.decide(proposal, agent)
    # The stored JSON is the answer: returned as is, it never differs from what was recorded.
    return Response(recorded.body, status_code=200 if recorded.replayed else 201, media_type=_JSON)


@router.get(
    "/{decision_id}", response_model=Decision, responses=_ERRORS, summary="Read a recorded decision"
)
def read_decision(decision_id: str, gateway: GatewayDep, reader: DecisionReaderDep) -> Response:
    """A recorded decision; agents see only their own."""
    return Response(gateway.decision_body(decision_id, reader), media_type=_JSON)
