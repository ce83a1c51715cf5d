"""The rules page, for compliance authors (and auditors): the impact reports computed for
candidate packs, and how the candidate in shadow agrees with the active pack, with charts."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from service.api.dependencies import DatabaseDep
from service.audit.pack_activation import latest_impacts
from service.auth.roles import Role
from service.candidates.shadow import shadow_report
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
    context = {
        "session": session,
        "shadow": shadow,
        "impacts": impacts,
        "most_shadowed": max((t["decisions"] for t in shadow.by_action_type.values()), default=1),
        "most_changed": max((n for i in impacts[:1] for n in i["transitions"].values()), default=1),
    }
    return page(request, "rules.html", context)
