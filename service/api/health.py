"""Liveness, readiness and metrics for orchestrators and monitoring."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.dependencies import MetricsDep, RuntimeDep, SettingsDep
from service.api.errors_doc import error_responses
from service.api.strict_json import StrictJsonRoute
from service.auth.bearer import bearer_key
from service.errors import NotReady, Unauthenticated

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ok while the process serves."""
    return {"status": "ok"}


@router.get("/readyz", summary="The gateway can decide and record")
def readyz(runtime: RuntimeDep) -> dict[str, str]:
    """Ready when the store answers and the audit writer runs; else 503 not_ready."""
    if not runtime.ready():
        raise NotReady("the store or the decision writer is not available")
    return {"status": "ready", **runtime.decides_with()}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses=error_responses(401),
)
def metrics(request: Request, gauges: MetricsDep, settings: SettingsDep) -> Response:
    """Decisions by outcome and their latency (this process); review queue depth and the
    oldest pending age (the shared store). Counts only: no identifiers, no secrets. With
    SLUICEGATE_METRICS_KEY set, only `Authorization: Bearer <that key>` is answered."""
    if settings.metrics_key is not None:
        given = bearer_key(request.headers.get("authorization")) or ""
        expected = settings.metrics_key.get_secret_value()
        if not hmac.compare_digest(given, expected):
            raise Unauthenticated("send the metrics key as 'Authorization: Bearer <key>'")
    return Response(generate_latest(gauges.registry), media_type=CONTENT_TYPE_LATEST)
