"""The error answers routes document in OpenAPI, all in the one `ErrorBody` shape."""

from __future__ import annotations

from typing import Any

from service.errors import ErrorBody

_DEFAULTS = {
    400: "invalid JSON or nesting too deep",
    401: "no valid API key",
    403: "the key's role may not do this",
    404: "no such resource, or not visible to this key",
    409: "the state does not allow this step now",
    413: "body too large",
    422: "body does not match the schema",
    503: "the audit record could not be committed; nothing was changed",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses; keyword names override a default description
    (`forbidden=`, `conflict=`, ...)."""
    names = {403: "forbidden", 409: "conflict", 422: "unprocessable", 503: "unavailable"}
    return {
        status: {
            "model": ErrorBody,
            "description": descriptions.get(names.get(status, ""), _DEFAULTS[status]),
        }
        for status in statuses
    }
