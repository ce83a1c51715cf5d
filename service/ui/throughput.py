"""The throughput page: where work moves and where it waits, as charts and a table."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from service.analytics.throughput import GroupBy, Indicators, throughput
from service.api.dependencies import DatabaseDep
from service.auth.roles import Role
from service.canaries.scores import canary_report
from service.store.utc import utc_now
from service.ui.pages import SignedInDep, page

router = APIRouter(prefix="/ui", include_in_schema=False)
OUTCOMES = ("allow", "sample", "route_to_human", "deny")
STUCK_AFTER = timedelta(hours=24)
READERS = frozenset({Role.AUDITOR, Role.AUTHOR})


@router.get("/throughput", response_class=HTMLResponse)
def throughput_page(
    request: Request,
    database: DatabaseDep,
    session: SignedInDep,
    days: Annotated[int, Query(ge=1, le=90)] = 7,
    group_by: GroupBy = "action_type",
) -> Response:
    """Decisions by outcome, time to done and time waiting on people, per group."""
    if session.principal.role not in READERS:
        message = "Throughput is for auditors and authors."
        return page(request, "error.html", {"session": session, "message": message}, 403)
    now = utc_now()
    report = throughput(
        database,
        since=now - timedelta(days=days),
        until=now + timedelta(seconds=1),
        group_by=group_by,
        stuck_after=STUCK_AFTER,
        now=now,
    )
    context = {
        "session": session,
        "report": report,
        "days": days,
        "group_by": group_by,
        "outcomes": OUTCOMES,
        "most_decisions": max((g.decisions for g in report.groups), default=1) or 1,
        "longest": _longest(report.groups),
        "canaries": canary_report(database),
    }
    return page(request, "throughput.html", context)


def _longest(groups: list[Indicators]) -> float:
    """The scale of the time chart: the longest p90 shown (at least one second)."""
    times = [
        value
        for g in groups
        for value in (g.cycle_time_p90_seconds, g.human_wait_p90_seconds)
        if value is not None
    ]
    return max([1.0, *times])
