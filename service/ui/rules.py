"""The rules page, for compliance authors (and auditors): the impact reports computed for
candidate packs, and how the candidate in shadow agrees with the active pack, with charts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service.api.dependencies import DatabaseDep
from service.audit.pack_activation import latest_impacts
from service.auth.roles import Role
from service.candidates.shadow import shadow_report
from service.sampling.adaptive import RateSeries, rate_series
from service.store.utc import utc_now
from service.ui.pages import SignedInDep, page

router = APIRouter(prefix="/ui", include_in_schema=False)
RULE_READERS = frozenset({Role.AUTHOR, Role.AUDITOR})
RECENT_IMPACTS = 10


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, database: DatabaseDep, session: SignedInDep) -> Response:
    """Impact reports and the shadow run's agreement."""
    if session.principal.role not in RULE_READERS:
        message = "The rules page is for compliance authors and auditors."
        return page(request, "error.html", {"session": session, "message": message}, 403)
    shadow = shadow_report(database)
    impacts = latest_impacts(database, RECENT_IMPACTS)
    now = utc_now()
    rates = [(series, rate_chart(series, now)) for series in rate_series(database)]
    context = {
        "session": session,
        "shadow": shadow,
        "impacts": impacts,
        "most_shadowed": max((t["decisions"] for t in shadow.by_action_type.values()), default=1),
        "most_changed": max((n for i in impacts[:1] for n in i["transitions"].values()), default=1),
        "rates": rates,
    }
    return page(request, "rules.html", context)


# The rate chart's drawing area, in its viewBox units: x from LEFT to LEFT + WIDTH, a rate of
# 0 at BOTTOM and 1 at BOTTOM - HEIGHT.
LEFT, WIDTH, BOTTOM, HEIGHT = 48, 560, 118, 100


def rate_chart(series: RateSeries, now: datetime) -> dict[str, Any]:
    """Where to draw an adaptive rate: its steps as a polyline, its bounds as a band."""
    start = series.points[0][0]
    span = max((now - start).total_seconds(), 1.0)

    def x(at: datetime) -> float:
        return round(LEFT + (at - start).total_seconds() / span * WIDTH, 1)

    def y(rate: float) -> float:
        return round(BOTTOM - rate * HEIGHT, 1)

    steps: list[str] = []
    for (at, rate), (next_at, _) in zip(
        series.points, [*series.points[1:], (now, 0.0)], strict=True
    ):
        steps += [f"{x(at)},{y(rate)}", f"{x(next_at)},{y(rate)}"]
    return {
        "steps": " ".join(steps),
        "band": {"y": y(series.high), "height": round((series.high - series.low) * HEIGHT, 1)},
        "left": LEFT,
        "width": WIDTH,
        "zero": y(0.0),
        "one": y(1.0),
        "now": series.points[-1][1],
        "since": start.strftime("%Y-%m-%d %H:%M"),
        "until": now.strftime("%Y-%m-%d %H:%M UTC"),
    }
