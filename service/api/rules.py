"""`POST /v1/rules/impact`: what a candidate rule pack would have answered to the log."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field

from policy.errors import PolicyError
from service.analytics.impact import ImpactReport, replay_impact
from service.api.dependencies import RuleReaderDep, RuntimeDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.audit.pack_activation import record_impact
from service.errors import InvalidRulePack, NotFound
from service.runtime import candidate_pack, replay_gate
from service.store.utc import UtcMoment, utc_now

router = APIRouter(prefix="/v1/rules", tags=["rules"], route_class=StrictJsonRoute)
DEFAULT_WINDOW = timedelta(days=7)


class ImpactRequest(BaseModel):
    """Which candidate (a folder of SLUICEGATE_CANDIDATES_DIR) over which window."""

    candidate: str = Field(min_length=1, max_length=64, examples=["raise-refund-limit"])
    since: UtcMoment | None = Field(None, description="default: 7 days before `until`")
    until: UtcMoment | None = Field(None, description="default: now")


@router.post(
    "/impact",
    response_model=ImpactReport,
    responses=error_responses(
        400, 401, 403, 404, 413, 422, 503, not_found="no candidate pack of that name"
    ),
    summary="Replay the log's decisions with a candidate rule pack",
)
def impact(body: ImpactRequest, runtime: RuntimeDep, _: RuleReaderDep) -> ImpactReport:
    """For compliance authors and auditors: replays the window's recorded decisions with the
    active pack and with the candidate, on the embedded engine, and reports what would
    change (docs/authors.md). Candidates are folders the operators put in
    `SLUICEGATE_CANDIDATES_DIR`: nothing uploaded here ever runs."""
    try:
        candidate = candidate_pack(runtime.settings, body.candidate)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    except PolicyError as exc:
        raise InvalidRulePack(str(exc)) from exc
    until = body.until or utc_now()
    since = body.since or until - DEFAULT_WINDOW
    active, proposed = (
        replay_gate(runtime.settings, runtime.pack),
        replay_gate(runtime.settings, candidate),
    )
    try:
        report = replay_impact(runtime.database, active, proposed, since=since, until=until)
    finally:
        active.close()
        proposed.close()
    record_impact(runtime.database, report.summary())
    return report
