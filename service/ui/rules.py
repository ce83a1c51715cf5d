"""The rules page, for compliance authors (and auditors): the impact reports computed for
candidate packs, and how the candidate in shadow agrees with the active pack, with charts."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine, select

from service.api.dependencies import DatabaseDep
from service.audit.pack_activation import IMPACT_KIND
from service.audit.tables import AUDIT_EVENTS
from service.auth.roles import Role
from service.decisions.shadow import shadow_report
from service.errors import SignInNeeded
from service.ui.pages import SessionCookie, page, session_for, to_sign_in

router = APIRouter(prefix="/ui", include_in_schema=False)
RULE_READERS = frozenset({Role.AUTHOR, Role.AUDITOR})
RECENT_IMPACTS = 10


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, database: DatabaseDep, cookie: SessionCookie = None) -> Response:
    """Impact reports and the shadow run's agreement."""
    try:
        session = session_for(database, cookie)
    except SignInNeeded:
        return to_sign_in(request)
    if session.principal.role not in RULE_READERS:
        message = "The rules page is for compliance authors and auditors."
        return page(request, "error.html", {"session": session, "message": message}, 403)
    shadow = shadow_report(database)
    impacts = recent_impacts(database)
    context = {
        "session": session,
        "shadow": shadow,
        "impacts": impacts,
        "most_shadowed": max((t["decisions"] for t in shadow.by_action_type.values()), default=1),
        "most_changed": max((n for i in impacts[:1] for n in i["transitions"].values()), default=1),
    }
    return page(request, "rules.html", context)


def recent_impacts(database: Engine) -> list[dict[str, Any]]:
    """The latest impact summaries recorded on the chain, newest first."""
    with database.connect() as connection:
        rows = connection.execute(
            select(AUDIT_EVENTS.c.event, AUDIT_EVENTS.c.recorded_at)
            .where(AUDIT_EVENTS.c.kind == IMPACT_KIND)
            .order_by(AUDIT_EVENTS.c.seq.desc())
            .limit(RECENT_IMPACTS)
        ).all()
    return [json.loads(raw)["impact"] | {"computed_at": at} for raw, at in rows]
