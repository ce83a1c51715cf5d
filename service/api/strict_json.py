"""One strict JSON parser for every request body (and no NUL in any parameter).

JSON as parsers accept it is looser than what the gate can record: a key given twice (the
last one wins, so `"type"` twice makes a refund be checked as a draft), NUL characters (which
PostgreSQL refuses), integers beyond ±(2^53 - 1) and NaN or Infinity (which the RFC 8785
canonical form of the audit record refuses). Each is answered 422 with a stable code and the
JSON pointer (RFC 6901) of the place, before anything is decided or written.

Every body of an API route passes here, whatever its Content-Type: one declared as anything
but JSON is refused with 415 before any route sees it (a form body once skipped this parser
and reached the route's own), and one sent without a Content-Type is parsed as JSON, strictly.
Slack's form-encoded callback is not an API route of this kind: it keeps its own parser."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from service.audit.event import MAX_SAFE_INTEGER
from service.errors import (
    DuplicateKey,
    IntegerOutOfRange,
    InvalidJson,
    NonFiniteNumber,
    NulCharacter,
    TooDeeplyNested,
    UnacceptableJson,
    UnsupportedMediaType,
)

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class _Duplicated(dict[str, Any]):
    """An object in which `key` appeared twice; found, with its place, by the walk."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


class _NonFinite:
    """Where the parser met NaN, Infinity or -Infinity."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return _Duplicated(pairs, key)
        seen.add(key)
    return dict(pairs)


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _refused(error: type[UnacceptableJson], path: tuple[str | int, ...]) -> UnacceptableJson:
    pointer = _pointer(path)
    return error(f"{error.message} at {pointer or '/'}", details=[{"pointer": pointer}])


def _walk(value: Any, path: tuple[str | int, ...]) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise _refused(NulCharacter, path)
    elif isinstance(value, dict):
        if isinstance(value, _Duplicated):
            raise _refused(DuplicateKey, (*path, value.key))
        for key, item in value.items():
            if "\x00" in key:
                raise _refused(NulCharacter, (*path, key))
            _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, (*path, index))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _refused(IntegerOutOfRange, path)
    elif isinstance(value, _NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        raise _refused(NonFiniteNumber, path)


def parse_strict(raw: bytes) -> Any:
    """The body's JSON value, or the error that names what and where it refuses."""
    try:
        value = json.loads(raw, object_pairs_hook=_object, parse_constant=lambda _: _NonFinite())
    except RecursionError:
        raise TooDeeplyNested() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Refuse, as `parse_strict` would, a value already parsed (a caller in process): no NUL,
    no integer beyond the double range, no NaN or Infinity, nothing nested without end."""
    try:
        _walk(value, ())
    except RecursionError:
        raise TooDeeplyNested() from None


def is_json(content_type: str) -> bool:
    """Whether a Content-Type names JSON: `application/json` or a `+json` type, any params."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _refuse_nul_in_parameters(request: Request) -> None:
    """Path and query parameters are strings the store may have to hold: no NUL either."""
    located = [("path", k, v) for k, v in request.path_params.items()]
    located += [("query", k, v) for k, v in request.query_params.multi_items()]
    for place, name, value in located:
        if "\x00" in str(name) or "\x00" in str(value):
            raise NulCharacter(
                f"the {place} parameter {name!r} contains the NUL character",
                details=[{"parameter": name.replace("\x00", "\\0"), "in": place}],
            )


class StrictJsonRoute(APIRoute):
    """An API route whose JSON body passes `parse_strict` before anything reads it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            _refuse_nul_in_parameters(request)
            if request.method in _WITH_BODY:
                raw = await request.body()
                content_type = request.headers.get("content-type")
                if raw and content_type is not None and not is_json(content_type):
                    raise UnsupportedMediaType()
                if raw:
                    # Starlette caches the parsed body here: FastAPI then reads this value
                    # instead of parsing the body a second time, more loosely.
                    request._json = parse_strict(raw)
            return await handler(request)

        return strict
