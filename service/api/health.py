"""Liveness and readiness for orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.dependencies import GatewayDep
from service.errors import NotReady

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    """Always ok while the process serves."""
    return {"status": "ok"}


@router.get("/readyz", summary="The gateway can decide and record")
def readyz(gateway: GatewayDep) -> dict[str, str]:
    """Ready when the store answers and the audit writer runs; else 503 not_ready."""
    if not gateway.ready():
        raise NotReady("the store or the audit writer is not available")
    return {
        "status": "ready",
        "revision": gateway.gate.pack.revision,
        "engine": gateway.settings.engine,
    }
