"""`/v1/work-items`: one work item end to end, for auditors."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.dependencies import AuditorDep, DatabaseDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.audit.trace import Trace, trace

router = APIRouter(prefix="/v1/work-items", tags=["audit"], route_class=StrictJsonRoute)


@router.get(
    "/{work_item}/trace",
    response_model=Trace,
    responses=error_responses(401, 403, 404, forbidden="only auditors and admins"),
)
def work_item_trace(work_item: str, database: DatabaseDep, auditor: AuditorDep) -> Trace:
    """Every event of the work item in order, each action's time waiting on people, and the
    rest of the span (deciding, acting, the agent's own work)."""
    return trace(database, work_item)
