"""`GET /v1/principals/me`: who a key acts as. The MCP proxy asks it to authenticate every
request before it lists tools or opens a stream; a client may ask it to check its key."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from service.api.dependencies import PrincipalDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute

router = APIRouter(prefix="/v1/principals", tags=["principals"], route_class=StrictJsonRoute)


class Me(BaseModel):
    """The principal a key acts as, with the role and scopes of that key."""

    id: str
    name: str
    role: str
    scopes: list[str]


@router.get("/me", response_model=Me, responses=error_responses(401), summary="Who this key is")
async def me(principal: PrincipalDep) -> Me:
    """The principal behind the key, with the key's role and scopes (never the key)."""
    return Me(
        id=principal.id,
        name=principal.name,
        role=principal.role.value,
        scopes=list(principal.scopes),
    )
