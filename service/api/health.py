"""Liveness, readiness and metrics for orchestrators and monitoring."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.dependencies import MetricsDep, RuntimeDep
from service.api.strict_json import StrictJsonRoute
from service.errors import NotReady

router = APIRouter(tags=["health"], route_class=StrictJsonRoute)


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ok while the process serves."""
    return {"status": "ok"}


@router.get("/readyz", summary="The gateway can decide and record")
def readyz(runtime: RuntimeDep) -> dict[str, str]:
    """Ready when the store answers and the audit writer runs; else 503 not_ready."""
    if not runtime.ready():
        raise NotReady("the store or the audit writer is not available")
    return {"status": "ready", **runtime.decides_with()}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(gauges: MetricsDep) -> Response:
    """Decisions by outcome and their latency (this process); review queue depth and the
    oldest pending age (the shared store). Counts only: no identifiers, no secrets."""
    return Response(generate_latest(gauges.registry), media_type=CONTENT_TYPE_LATEST)
