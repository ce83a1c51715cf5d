"""`/v1/held-calls`: tool calls the MCP proxy holds for review, kept in the gate's store so
any proxy replica answers for any of them. The proxy acts with the calling agent's own key,
so each agent reads and changes only its own calls (another's is a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.api.dependencies import AgentDep, HeldCallsDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.held_calls.calls import CallResult, HeldCall, NewHeldCall

router = APIRouter(prefix="/v1/held-calls", tags=["held calls"], route_class=StrictJsonRoute)
_CLOSED = "the call completed or was cancelled, or another replica is forwarding it"


@router.post(
    "",
    status_code=201,
    response_model=HeldCall,
    responses={
        200: {"model": HeldCall, "description": "the call already held for this decision"},
        **error_responses(401, 403, 404, 422),
    },
    summary="Hold a routed call until its review resolves",
)
def hold(body: NewHeldCall, response: Response, calls: HeldCallsDep, agent: AgentDep) -> HeldCall:
    """For a decision of this agent's that was routed to a person; asked again, the same."""
    held, new = calls.hold(agent, body)
    if not new:
        response.status_code = 200
    return held


@router.get(
    "",
    response_model=list[HeldCall],
    responses=error_responses(401, 403, 422),
    summary="My calls still held for this upstream, tool and arguments",
)
def pending(
    call_digest: Annotated[str, Query(min_length=71, max_length=71)],
    calls: HeldCallsDep,
    agent: AgentDep,
) -> list[HeldCall]:
    """`call_digest`: `sha256:` and the hex sha256 of the RFC 8785 form of `{"upstream",
    "tool", "arguments"}`. The calls still held or being forwarded, newest first."""
    return calls.pending(agent, call_digest)


@router.get(
    "/{call_id}",
    response_model=HeldCall,
    responses=error_responses(401, 403, 404),
    summary="A held call, with its decision's status now",
)
def read(call_id: str, calls: HeldCallsDep, agent: AgentDep) -> HeldCall:
    """The call, what came of it, and where its review stands."""
    return calls.get(agent, call_id)


@router.post(
    "/{call_id}/forwarding",
    response_model=HeldCall,
    responses=error_responses(401, 403, 404, 409, conflict=_CLOSED),
    summary="Take the lease to forward an approved call (one replica at a time)",
)
def start_forwarding(call_id: str, calls: HeldCallsDep, agent: AgentDep) -> HeldCall:
    """A replica takes it before it uses the approval and forwards the call."""
    return calls.start_forwarding(agent, call_id)


@router.post(
    "/{call_id}/result",
    response_model=HeldCall,
    responses=error_responses(401, 403, 404, 409, 422, conflict=_CLOSED),
    summary="Store what the agent reads: the upstream's result, or the refusal",
)
def complete(call_id: str, body: CallResult, calls: HeldCallsDep, agent: AgentDep) -> HeldCall:
    """Final: the call is completed."""
    return calls.complete(agent, call_id, body)


@router.post(
    "/{call_id}/cancel",
    response_model=HeldCall,
    responses=error_responses(401, 403, 404, 409, conflict=_CLOSED),
    summary="Cancel a held call: its open review is withdrawn",
)
def cancel(call_id: str, calls: HeldCallsDep, agent: AgentDep) -> HeldCall:
    """The review closes as withdrawn (recorded); the call is never forwarded."""
    return calls.cancel(agent, call_id)
