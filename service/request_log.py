"""One structured log line per request, and the server's logging setup.

The line names the method, the route template (never the raw path, which may carry ids), the
status, the duration, the principal's name and the decision id when there is one. It never
holds a key, a cookie or a body.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from service.settings import Settings

log = logging.getLogger("sluicegate.requests")
# Where routes and dependencies leave what the line reports (in the request's `state`).
PRINCIPAL_NAME = "principal_name"
DECISION_ID = "decision_id"


class RequestLog:
    """ASGI middleware: times each HTTP request and logs it once it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, sending)
        finally:
            if log.isEnabledFor(logging.INFO):
                _log_request(scope, status, time.perf_counter() - started)


def _log_request(scope: Scope, status: int, seconds: float) -> None:
    route = scope.get("route")
    state: dict[str, Any] = scope.get("state") or {}
    fields = {
        "method": scope["method"],
        "route": getattr(route, "path", None) or "(unrouted)",
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "principal": state.get(PRINCIPAL_NAME),
        "decision_id": state.get(DECISION_ID)
        or (scope.get("path_params") or {}).get("decision_id"),
    }
    text = f"{fields['method']} {fields['route']} {status} {fields['duration_ms']:.1f}ms"
    for name in ("principal", "decision_id"):
        if fields[name]:
            text += f" {name}={fields[name]}"
    log.info(text, extra={"request": fields})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update(getattr(record, "request", {}))
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


class _Enqueue(QueueHandler):
    """Puts the record on the queue as it is; the writer thread formats it."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_logging(settings: Settings) -> None:
    """Log to stderr in the configured format and level (uvicorn's own loggers included).

    Records go through a queue to a writer thread: the event loop only enqueues, and the
    formatting and the write to stderr happen off it (written inline, the request line cost
    a fifth of the gateway's throughput; bench/request_log_cost.py)."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(records, handler, respect_handler_level=True)
    listener.start()
    atexit.register(listener.stop)  # drains what is queued before the process ends
    root = logging.getLogger()
    root.handlers[:] = [_Enqueue(records)]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
