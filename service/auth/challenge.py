"""What a 401 or a 403 tells an OAuth client (RFC 6750, RFC 9728): where this resource's
metadata is, and, for a token, what was wrong with it or which scope it lacks."""

from __future__ import annotations

from urllib.parse import urlsplit

from service.errors import InsufficientScope, InvalidToken, ServiceError

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def resource_metadata_url(public_url: str) -> str:
    """RFC 9728: the well-known segment goes between the host and the resource's path."""
    parts = urlsplit(public_url)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


def protected_resource_metadata(
    public_url: str, issuers: list[str], scope: str
) -> dict[str, object]:
    """RFC 9728 metadata for a resource (the gate's API, or an MCP proxy's `/mcp`)."""
    return {
        "resource": public_url,
        "authorization_servers": issuers,
        "scopes_supported": [scope],
        "bearer_methods_supported": ["header"],
        "resource_name": "Sluicegate",
    }


def challenge(error: ServiceError, public_url: str | None) -> str | None:
    """The `WWW-Authenticate` value for this error, or None when it needs none."""
    parameters: list[str] = []
    if isinstance(error, InvalidToken):
        parameters.append('error="invalid_token"')
    elif isinstance(error, InsufficientScope):
        parameters += ['error="insufficient_scope"', f'scope="{error.scope}"']
    elif error.status != 401:
        return None
    if public_url is not None:
        parameters.append(f'resource_metadata="{resource_metadata_url(public_url)}"')
    return "Bearer " + ", ".join(parameters) if parameters else "Bearer"
