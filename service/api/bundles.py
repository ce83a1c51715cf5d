"""The active rule pack as an OPA bundle, for sidecars that poll it the OPA-native way."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from service.api.dependencies import BundleDep, role_in
from service.api.strict_json import StrictJsonRoute
from service.auth.principals import Principal
from service.auth.roles import Role

router = APIRouter(prefix="/v1/bundles", tags=["bundles"], route_class=StrictJsonRoute)

BundleReaderDep = Annotated[Principal, Depends(role_in(Role.SIDECAR, Role.AUTHOR, Role.ADMIN))]


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*`, or a list of (possibly weak) entity tags."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/sluicegate.tar.gz",
    summary="The active rule pack as an OPA bundle",
    response_class=Response,
    responses={
        200: {"content": {"application/gzip": {}}, "description": "The bundle"},
        304: {"description": "The sidecar already has this revision"},
    },
)
def bundle(request: Request, published: BundleDep, _: BundleReaderDep) -> Response:
    """`.manifest` (with the pack's revision), `data.json` and the Rego modules, as a gzipped
    tarball. The ETag is the revision, so a sidecar polling with `If-None-Match` gets 304 until
    the pack changes. Roles: sidecar, author, admin."""
    headers = {"ETag": published.etag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match", ""), published.etag):
        return Response(status_code=304, headers=headers)
    return Response(published.archive, media_type="application/gzip", headers=headers)
