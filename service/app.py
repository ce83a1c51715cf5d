"""The FastAPI application factory: wires the gateway, routers, limits and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace import TracerProvider

from service.api import (
    analytics,
    audit,
    bundles,
    decisions,
    health,
    held_calls,
    permits,
    principals,
    resource_metadata,
    reviews,
    rules,
    slack,
    webhooks,
    work_items,
)
from service.api.body_limit import BodyLimit
from service.api.dependencies import authenticated_principal
from service.api.error_handlers import install_error_handlers
from service.api.openapi import install_openapi
from service.heap import freeze_startup_heap
from service.request_log import RequestLog, configure_logging
from service.runtime import Runtime
from service.settings import Settings
from service.tracing import instrument, tracer_provider
from service.ui import routes as ui
from service.ui import rules as ui_rules
from service.ui import throughput as ui_throughput
from service.ui.pages import install_sign_in


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    tracing: TracerProvider | None = None,
    whole_process: bool = False,
) -> FastAPI:
    """A gateway app; its runtime is built at startup unless one is given (tests). Without
    settings (a worker process of `serve --workers`), it reads the SLUICEGATE_* environment
    and configures logging as `serve` does. An app that is its whole process (`serve`, and
    each worker) freezes its start-up heap once started (`freeze_startup_heap`)."""
    if settings is None:
        settings = Settings()
        configure_logging(settings)
        whole_process = True

    provider = tracing or tracer_provider(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime(settings, tracer_provider=provider)
        if whole_process:
            freeze_startup_heap()
        try:
            yield
        finally:
            app.state.runtime.close()
            if provider is not None:
                provider.shutdown()  # sends the spans still batched

    app = FastAPI(
        title="Sluicegate",
        version="1",
        summary="Ask before acting: allow, sample, route to a human, or deny — with an audit "
        "record for every decision.",
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)  # outermost: it times and logs every answer, errors too
    install_error_handlers(app)
    install_sign_in(app)  # the review pages answer a missing session by asking to sign in
    instrument(app, provider)
    install_openapi(app, authenticated_principal)
    app.include_router(decisions.router)
    app.include_router(reviews.router)
    app.include_router(audit.router)
    app.include_router(work_items.router)
    app.include_router(analytics.router)
    app.include_router(webhooks.router)
    app.include_router(bundles.router)
    app.include_router(health.router)
    app.include_router(permits.router)
    app.include_router(resource_metadata.router)
    app.include_router(held_calls.router)
    app.include_router(principals.router)
    app.include_router(slack.router)
    app.include_router(rules.router)
    app.include_router(ui.router)
    app.include_router(ui_throughput.router)
    app.include_router(ui_rules.router)
    app.mount(
        "/ui/static", StaticFiles(directory=Path(ui.__file__).parent / "static"), name="ui-static"
    )
    return app
