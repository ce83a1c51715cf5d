"""Every error answers the same JSON shape with a stable code."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Route

from service.api.validation import field_errors
from service.auth.challenge import challenge
from service.errors import ErrorBody, ErrorDetail, ServiceError, StoreUnavailable

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 415: "unsupported_media_type"}
# What a 503 tells a client to wait before trying again, in seconds.
RETRY_AFTER_SECONDS = 1


def error_response(
    status: int, code: str, message: str, details: list[dict[str, object]]
) -> JSONResponse:
    """The standard error body."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    answer = error_response(exc.status, exc.code, str(exc), exc.details)
    runtime = getattr(request.app.state, "runtime", None)
    public_url = runtime.settings.public_url if runtime is not None else None
    asked = challenge(exc, str(public_url) if public_url is not None else None)
    if asked is not None:
        answer.headers["WWW-Authenticate"] = asked
    return answer


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    failed = field_errors(exc.errors())
    return error_response(failed.status, failed.code, str(failed), failed.details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    answer = error_response(exc.status_code, code, str(exc.detail), [])
    answer.headers.update(exc.headers or {})
    if exc.status_code == 405:
        answer.headers["Allow"] = ", ".join(sorted(_methods_for(request)))
    return answer


def _methods_for(request: Request) -> set[str]:
    """Every method some route serves at this path (the router names only the first route's)."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route = context.route
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return methods


async def _store_error(_request: Request, exc: Exception) -> JSONResponse:
    # Any failure of the store (down, read-only, timed out, a refused row): nothing was
    # changed, and the caller may retry. The type only: a driver's message may hold the URL.
    log.warning("store error: %s", type(exc).__name__)
    return error_response(503, StoreUnavailable.code, StoreUnavailable.message, [])


async def _client_gone(_request: Request, exc: Exception) -> JSONResponse:
    # The caller hung up before its body arrived: nothing was decided, and nobody reads this.
    log.debug("client disconnected before sending its request body")
    return error_response(400, "client_disconnected", "the request body did not arrive", [])


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error: %s", type(exc).__name__)
    return error_response(500, "internal_error", "the gateway failed; nothing was decided", [])


def install_error_handlers(app: FastAPI) -> None:
    """Map every kind of failure to the one error shape."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _store_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
