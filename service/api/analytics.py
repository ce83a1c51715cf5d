"""`/v1/analytics`: the indicators leaders need, per action or work item type, and whether
reviews are real (canary scores)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from service.analytics.throughput import GroupBy, Throughput, throughput
from service.api.dependencies import AuditorDep, DatabaseDep, RuleReaderDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.canaries.scores import CanaryReport, canary_report
from service.store.utc import UtcMoment, utc_now

router = APIRouter(prefix="/v1/analytics", tags=["analytics"], route_class=StrictJsonRoute)
DEFAULT_WINDOW = timedelta(days=7)


@router.get(
    "/throughput",
    response_model=Throughput,
    responses=error_responses(401, 403, 422, forbidden="only auditors and admins"),
)
def read_throughput(
    *,
    database: DatabaseDep,
    auditor: AuditorDep,
    since: UtcMoment | None = None,
    until: UtcMoment | None = None,
    group_by: GroupBy = "action_type",
    stuck_after: Annotated[timedelta, Query(description="ISO 8601 duration")] = timedelta(hours=24),
) -> Throughput:
    """Counts by outcome and status, cycle time and human wait p50/p90, first-pass approval
    and reject rates, SLA breaches, the post-hoc "should not have happened" rate, and items
    stuck in a non-final status, for decisions made in the window (default: the last 7 days)."""
    now = utc_now()
    return throughput(
        database,
        since=since or now - DEFAULT_WINDOW,
        until=until or now + timedelta(seconds=1),
        group_by=group_by,
        stuck_after=stuck_after,
        now=now,
    )


@router.get(
    "/canaries",
    response_model=CanaryReport,
    responses=error_responses(401, 403, forbidden="only auditors and authors"),
    summary="Whether reviews are real: answers to known-answer checks",
)
def read_canaries(database: DatabaseDep, _: RuleReaderDep) -> CanaryReport:
    """Per reviewer and queue, and per queue: known-answer checks answered, rightly, the
    approvals of checks that should have been rejected, the median time to decide, and
    whether the answers flag the reviewer (docs/authors.md)."""
    return canary_report(database)
