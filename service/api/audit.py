"""`/v1/audit`: verify the chain, and fetch the checkpoints and the key that signs them."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse, StreamingResponse

from service.api.dependencies import AuditorDep, DatabaseDep, PackDep, SigningKeyDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.audit.checkpoints import Checkpoint, list_checkpoints
from service.audit.evidence_pack import build_pack
from service.audit.export import export_csv, export_ndjson
from service.audit.query import MAX_PAGE, EventFilter, EventPage, query_events
from service.audit.signing import public_pem
from service.audit.verify import Verification, verify_store
from service.decisions.rollback import RollbackCandidate, rollback_candidates
from service.store.utc import UtcMoment

router = APIRouter(prefix="/v1/audit", tags=["audit"], route_class=StrictJsonRoute)
_ERRORS = error_responses(401, 403, forbidden="only auditors and admins")


@router.get("/verify", response_model=Verification, responses=_ERRORS)
async def verify_chain(
    database: DatabaseDep, key: SigningKeyDep, auditor: AuditorDep
) -> Verification:
    """Recompute the whole chain and check it against every signed checkpoint; a break names
    the first broken `seq` and why."""
    return await asyncio.to_thread(partial(verify_store, database, key.public_key()))


@router.get("/checkpoints", response_model=list[Checkpoint], responses=_ERRORS)
def read_checkpoints(database: DatabaseDep, auditor: AuditorDep) -> list[Checkpoint]:
    """Every signed checkpoint, oldest first: keep copies, they are the evidence against a
    rewritten or shortened log."""
    return list_checkpoints(database)


@router.get("/public-key", response_class=PlainTextResponse, responses=_ERRORS)
def public_key(key: SigningKeyDep, auditor: AuditorDep) -> str:
    """The Ed25519 public key (PEM) that verifies the checkpoints."""
    return public_pem(key.public_key())


@router.get(
    "/events",
    response_model=EventPage,
    responses=error_responses(400, 401, 403, forbidden="only auditors and admins"),
)
def list_events(
    *,
    database: DatabaseDep,
    auditor: AuditorDep,
    wanted: Annotated[EventFilter, Query()],
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: str | None = None,
) -> EventPage:
    """Events matching every filter given, oldest first; pass `next_cursor` back for more."""
    return query_events(database, wanted, limit=limit, cursor=cursor)


@router.get(
    "/export.ndjson",
    response_class=StreamingResponse,
    responses={**_ERRORS, 200: {"content": {"application/x-ndjson": {}}}},
)
def export_ndjson_route(
    database: DatabaseDep, auditor: AuditorDep, wanted: Annotated[EventFilter, Query()]
) -> StreamingResponse:
    """Matching decisions, one per line, shaped like OPA's decision-log events; streamed."""
    return StreamingResponse(export_ndjson(database, wanted), media_type="application/x-ndjson")


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={**_ERRORS, 200: {"content": {"text/csv": {}}}},
)
def export_csv_route(
    database: DatabaseDep, auditor: AuditorDep, wanted: Annotated[EventFilter, Query()]
) -> StreamingResponse:
    """Matching decisions as CSV; streamed."""
    return StreamingResponse(export_csv(database, wanted), media_type="text/csv")


@router.get(
    "/evidence",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/zip": {}}}},
)
def evidence_pack(
    *,
    database: DatabaseDep,
    key: SigningKeyDep,
    pack: PackDep,
    auditor: AuditorDep,
    since: Annotated[UtcMoment, Query(description="from this time (ISO 8601)")],
    until: Annotated[UtcMoment, Query(description="to this time, exclusive")],
) -> Response:
    """Every event of the range with its checkpoints, rule packs and a signed manifest, as a
    zip that `sluicegate audit verify --pack FILE` checks offline."""
    data = build_pack(database, key, pack, since=since, until=until)
    name = f"sluicegate-evidence-{since:%Y%m%dT%H%M}-{until:%Y%m%dT%H%M}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/rollback-candidates",
    response_model=list[RollbackCandidate],
    responses=_ERRORS,
)
def list_rollback_candidates(
    database: DatabaseDep, auditor: AuditorDep, wanted: Annotated[EventFilter, Query()]
) -> list[RollbackCandidate]:
    """What we would roll back if this rule, pack revision or agent was wrong: executed
    actions whose decisions match, with their reversibility, target and changes."""
    return rollback_candidates(database, wanted)
