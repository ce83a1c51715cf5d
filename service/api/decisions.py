"""`POST /v1/decisions`, `GET /v1/decisions/{id}`, and what an agent does with a decision:
use its approval, withdraw it, report its outcome."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from policy.decision import Decision
from service.api.dependencies import (
    AgentDep,
    DatabaseDep,
    DeciderDep,
    DecisionReaderDep,
    DecisionWatchDep,
    DeskDep,
    PackDep,
    PermitsDep,
)
from service.api.errors_doc import error_responses
from service.api.openapi import PROPOSAL_REF
from service.api.proposal_body import parse_proposal
from service.api.strict_json import StrictJsonRoute
from service.auth.principals import Principal
from service.decisions.outcomes import OutcomeRecorded, OutcomeReport, report_outcome
from service.decisions.proceed import proceed as use_approval
from service.decisions.status import DecisionStatus
from service.errors import CallAlreadyHeld
from service.held_calls.calls import HeldCalls
from service.held_calls.identity import CALL_DIGEST_HEADER
from service.request_log import DECISION_ID
from service.reviews.models import ApprovalUse

router = APIRouter(prefix="/v1/decisions", tags=["decisions"], route_class=StrictJsonRoute)

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
_ERRORS = error_responses(
    400,
    401,
    403,
    409,
    413,
    422,
    503,
    forbidden="the key is not an agent's",
    conflict="idempotency key reused with another body, or (the MCP proxy's "
    "Sluicegate-Call-Digest) the call is already held for review",
    unavailable="the audit record could not be committed; no decision was issued",
)
_JSON = "application/json"
# The longest a long poll holds a request open.
MAX_WAIT_SECONDS = 60


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
            "content": {_JSON: {"schema": PROPOSAL_REF, "example": _EXAMPLE}},
        }
    },
    summary="Ask the gate before acting",
)
async def create_decision(request: Request, decider: DeciderDep, agent: AgentDep) -> Response:
    """Decide a proposal; the answer comes only after its audit record is committed."""
    with decider.tracer.start_span("decision.parse"):
        proposal = parse_proposal(await request.body())
    held_digest = request.headers.get(CALL_DIGEST_HEADER)
    if held_digest is not None:  # the MCP proxy: one round trip finds a call made again
        await _not_already_held(request, agent, held_digest)
    recorded = await decider.decide(proposal, agent)
    setattr(request.state, DECISION_ID, recorded.decision_id)
    # The stored JSON with the permit put in: it never differs from what was recorded.
    status = 200 if recorded.replayed else 201
    return Response(recorded.answer, status_code=status, media_type=_JSON)


async def _not_already_held(request: Request, agent: Principal, digest: str) -> None:
    held_calls: HeldCalls = request.app.state.runtime.held_calls
    held = await asyncio.to_thread(held_calls.pending, agent, digest)
    if held:
        raise CallAlreadyHeld(details=[{"held_call_id": held[0].id}])


@router.get(
    "/{decision_id}",
    response_model=DecisionStatus,
    responses=error_responses(401, 403, 404),
    summary="Read a decision and the action's status; long-poll with ?wait=",
)
async def read_decision(
    decision_id: str,
    decisions: DecisionWatchDep,
    reader: DecisionReaderDep,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 0,
) -> DecisionStatus:
    """The decision as answered, with the action's status now. With `wait=N` (up to 60 s) a
    pending review is awaited: the answer comes as soon as it resolves, or after N seconds."""
    return await decisions.status(decision_id, reader, wait=wait)


@router.post(
    "/{decision_id}/proceed",
    response_model=ApprovalUse,
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        422,
        conflict="not approved, already used, another proposal, "
        "or the rules changed since the approval",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {_JSON: {"schema": PROPOSAL_REF}},
        }
    },
    summary="Use an approval: once, for exactly the approved proposal",
)
async def proceed(
    decision_id: str,
    request: Request,
    *,
    desk: DeskDep,
    permits: PermitsDep,
    pack: PackDep,
    agent: AgentDep,
) -> ApprovalUse:
    """Send the proposal exactly as approved; the approval is spent and the agent may act,
    with the permit in the answer."""
    proposal = parse_proposal(await request.body())
    return await use_approval(decision_id, agent, proposal, desk=desk, permits=permits, pack=pack)


@router.post(
    "/{decision_id}/withdraw",
    response_model=DecisionStatus,
    responses=error_responses(
        401, 403, 404, 409, conflict="the review is already resolved (approved, rejected...)"
    ),
    summary="Take a routed proposal back while its review is open",
)
async def withdraw(
    decision_id: str,
    *,
    desk: DeskDep,
    decisions: DecisionWatchDep,
    agent: AgentDep,
) -> DecisionStatus:
    """Only the agent that proposed it; its review closes as `withdrawn` (recorded on the
    chain) and the approval can never be used. The answer is the decision's status now."""
    await asyncio.to_thread(desk.withdraw, decision_id, agent)
    return await decisions.status(decision_id, agent)


@router.post(
    "/{decision_id}/outcome",
    response_model=OutcomeRecorded,
    responses=error_responses(
        401, 403, 404, 409, 422, conflict="the action's status does not allow this report"
    ),
    summary="Report what the agent did: executed, failed or rolled_back, with its artifact",
)
def report(
    decision_id: str,
    body: OutcomeReport,
    *,
    database: DatabaseDep,
    pack: PackDep,
    permits: PermitsDep,
    agent: AgentDep,
) -> OutcomeRecorded:
    """The action's status becomes executed (or verified, when the artifact meets the action
    type's definition of done), failed or rolled_back. A report the status does not allow is
    recorded as a violation and answered 409."""
    return report_outcome(database, pack, agent, decision_id, body, permits=permits)
