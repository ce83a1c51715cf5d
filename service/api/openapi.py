"""The OpenAPI document: valid 3.1, every `$ref` resolvable, every answer documented.

FastAPI's generated document is completed here: the proposal schema (whose body the
decision routes parse themselves, for their own error codes) goes under
`#/components/schemas`; every operation documents the errors any route can answer (body too
large, store unavailable, ...) in the one `ErrorBody` shape, which 422 answers use too; and
the bearer key is declared as the security scheme of the routes that need one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema

from policy.proposal import Proposal
from service.errors import ErrorBody

REF = "#/components/schemas/{model}"
PROPOSAL_REF = {"$ref": REF.format(model="Proposal")}
_ERROR_REF = {"$ref": REF.format(model="ErrorBody")}
_BODY_METHODS = {"post", "put", "patch"}
# What any operation may answer, besides what its route declares.
_EVERY_OPERATION = {
    "422": "a parameter or the body does not match the schema",
    "503": "the store or the decision writer is unavailable; nothing was changed; retry after "
    "the `Retry-After` seconds",
}
_WITH_BODY = {
    "400": "the body is not valid JSON, or nests too deep",
    "413": "the body is larger than allowed",
    "415": "the body is declared as something other than JSON (send application/json)",
}
_WITH_KEY = {"401": "no valid API key", "403": "the key's role may not do this"}
_WITH_PATH_ID = {"404": "no such resource, or not visible to this key"}


def install_openapi(app: FastAPI, authenticated: Callable[..., Any]) -> None:
    """Replace the app's `openapi()` with the completed document (built once, then cached).
    `authenticated` is the dependency that reads the API key."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app, authenticated)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document(app: FastAPI, authenticated: Callable[..., Any]) -> dict[str, Any]:
    document = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _, extra = models_json_schema(
        [(Proposal, "validation"), (ErrorBody, "validation")],
        by_alias=True,
        ref_template=REF,
    )
    schemas.update(extra.get("$defs", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "an API key: sg_..."}
    }
    needs_key = {
        (method.lower(), route.path)
        for route in _routes(app)
        if _depends_on(route.dependant, authenticated)
        for method in route.methods or ()
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _complete(
                operation,
                has_body=method in _BODY_METHODS,
                keyed=(method, path) in needs_key,
                names_one="{" in path,
            )
    return document


def _complete(operation: dict[str, Any], *, has_body: bool, keyed: bool, names_one: bool) -> None:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        if media.get("schema", {}).get("title") == "Proposal":
            media["schema"] = PROPOSAL_REF
    extra = dict(_EVERY_OPERATION)
    if has_body:
        extra |= _WITH_BODY
    if names_one:
        extra |= _WITH_PATH_ID
    if keyed:
        extra |= _WITH_KEY
        operation["security"] = [{"apiKey": []}]
    responses = operation.setdefault("responses", {})
    for status, description in extra.items():
        documented = responses.setdefault(status, {"description": description})
        documented["content"] = {"application/json": {"schema": _ERROR_REF}}


def _routes(app: FastAPI) -> Iterator[APIRoute]:
    for context in iter_route_contexts(app.routes):
        if isinstance(context.route, APIRoute):
            yield context.route


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_depends_on(d, call) for d in dependant.dependencies)
