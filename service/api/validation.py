"""What a 422 says: each failing field as a JSON pointer into what was sent, with its message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jsonpath import JSONPointer
from pydantic_core import ErrorDetails

from service.errors import ValidationFailed

# Where FastAPI says a request value came from; a body's pointer starts at the body itself.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_errors(errors: Sequence[ErrorDetails], *, source: str = "body") -> ValidationFailed:
    """The error for pydantic's list: a detail per failing field, and a message naming them.

    `loc` of a request parameter starts with where it came from (FastAPI's `("query", "limit")`);
    a body parsed by us has none, and `source` says where it came from."""
    details = [_detail(error, source) for error in errors]
    named = "; ".join(
        f"{d['in']} {d['pointer'] or '(the whole body)'}: {d['msg']}" for d in details
    )
    return ValidationFailed(f"{ValidationFailed.message}: {named}", details=details)


def _detail(error: ErrorDetails, source: str) -> dict[str, Any]:
    loc = list(error["loc"])
    if loc and loc[0] in _SOURCES:
        source, loc = str(loc[0]), loc[1:]
    return {
        "in": source,
        "pointer": str(JSONPointer.from_parts(loc)) if loc else "",
        "loc": list(error["loc"]),
        "msg": error["msg"],
        "type": error["type"],
    }
