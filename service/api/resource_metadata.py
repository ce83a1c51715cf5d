"""`/.well-known/oauth-protected-resource`: RFC 9728 metadata, so an OAuth client (an MCP
client, for one) finds from a 401 which authorization servers issue tokens for this gate and
which scope it asks. Only when agents may present tokens (SLUICEGATE_OAUTH_ISSUERS and
SLUICEGATE_PUBLIC_URL); any other well-known path is a 404, never a 401."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter

from service.api.dependencies import SettingsDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.auth.challenge import WELL_KNOWN, protected_resource_metadata
from service.errors import NotFound
from service.settings import Settings

router = APIRouter(tags=["identity"], route_class=StrictJsonRoute)


@router.get(
    WELL_KNOWN,
    responses=error_responses(404),
    summary="This gate as an OAuth protected resource (RFC 9728)",
)
def protected_resource(settings: SettingsDep) -> dict[str, object]:
    """For a gate at the root of its host."""
    return _metadata(settings, "")


@router.get(
    WELL_KNOWN + "/{path:path}",
    responses=error_responses(404),
    summary="This gate as an OAuth protected resource, served under a path (RFC 9728)",
)
def protected_resource_under(path: str, settings: SettingsDep) -> dict[str, object]:
    """For a gate whose public URL has a path (`https://host/gate` asks `.../gate`)."""
    return _metadata(settings, path)


def _metadata(settings: Settings, path: str) -> dict[str, object]:
    public_url = str(settings.public_url) if settings.public_url is not None else None
    if public_url is None or not settings.trusted_issuers:
        raise NotFound("this gate takes no OAuth access tokens")
    if urlsplit(public_url).path.strip("/") != path.strip("/"):
        raise NotFound(f"no protected resource at {path!r}")
    return protected_resource_metadata(public_url, settings.trusted_issuers, settings.oauth_scope)
