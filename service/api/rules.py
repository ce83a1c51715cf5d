"""`/v1/rules`: what a candidate rule pack would have answered to the log (impact), and
how it agrees with the active pack on live traffic (shadow)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from policy.errors import PolicyError
from policy.rule_pack import RulePack
from service.api.dependencies import AuthorDep, RuleReaderDep, RuntimeDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.candidates.impact import ImpactReport, impact_of
from service.candidates.packs import candidate_pack
from service.candidates.shadow import (
    ShadowReport,
    ShadowRun,
    shadow_report,
    start_run,
    stop_run,
)
from service.errors import InvalidRulePack, NotFound
from service.runtime import Runtime
from service.store.utc import UtcMoment, utc_now

router = APIRouter(prefix="/v1/rules", tags=["rules"], route_class=StrictJsonRoute)


def _candidate(runtime: Runtime, name: str) -> RulePack:
    try:
        return candidate_pack(runtime.settings, name)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    except PolicyError as exc:
        raise InvalidRulePack(str(exc)) from exc


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
    return impact_of(
        runtime.database,
        runtime.settings,
        active=runtime.pack,
        candidate=_candidate(runtime, body.candidate),
        since=body.since,
        until=body.until or utc_now(),
    )


class ShadowRequest(BaseModel):
    """Which candidate (a folder of SLUICEGATE_CANDIDATES_DIR) to shadow."""

    candidate: str = Field(min_length=1, max_length=64, examples=["raise-refund-limit"])


@router.post(
    "/shadow",
    status_code=201,
    response_model=ShadowRun,
    responses=error_responses(400, 401, 403, 404, 413, 422, 503, not_found="no such candidate"),
    summary="Shadow a candidate pack on live traffic",
)
def start_shadow(body: ShadowRequest, runtime: RuntimeDep, author: AuthorDep) -> ShadowRun:
    """Every gateway also decides each live proposal with the candidate (within a few
    seconds), with no effect on the answers; `GET /v1/rules/shadow` reports how often it
    agrees. Starting one stops the run in progress."""
    candidate = _candidate(runtime, body.candidate)
    return start_run(runtime.database, candidate, started_by=author.name)


@router.delete(
    "/shadow",
    status_code=204,
    responses=error_responses(401, 403, 404, 503, not_found="no shadow run in progress"),
    summary="Stop shadowing",
)
def end_shadow(runtime: RuntimeDep, _: AuthorDep) -> Response:
    """Stop the run in progress; its results stay for the report."""
    if not stop_run(runtime.database):
        raise NotFound("no shadow run in progress")
    return Response(status_code=204)


@router.get(
    "/shadow",
    response_model=ShadowReport,
    responses=error_responses(401, 403, 503),
    summary="How the shadow pack agrees with the active one",
)
def read_shadow(runtime: RuntimeDep, _: RuleReaderDep) -> ShadowReport:
    """The latest run's agreement, overall, per action type, and where it would differ."""
    return shadow_report(runtime.database)
