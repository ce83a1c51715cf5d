"""`/.well-known/jwks.json`: the public keys that verify permits, for target systems."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.api.dependencies import PermitsDep
from service.api.strict_json import StrictJsonRoute

router = APIRouter(tags=["permits"], route_class=StrictJsonRoute)


@router.get("/.well-known/jwks.json", summary="The keys that verify permits (JWKS)")
def jwks(permits: PermitsDep) -> dict[str, Any]:
    """The current signing key and retired keys whose permits may not have expired yet. Open
    to anyone: these are public keys."""
    return permits.jwks()
