"""Servers on 127.0.0.1 for tests: a free port, and a real gateway served by uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from service.app import create_app
from service.settings import Settings

_START_SECONDS = 30.0


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(settings: Settings, *, port: int | None = None, http: str = "auto") -> Iterator[str]:
    """The gateway app under uvicorn in a thread (`http`: its HTTP implementation, httptools
    or h11); yields its base URL."""
    with serving_app(create_app(settings), port=port, http=http) as url:
        yield url


@contextmanager
def serving_app(app: Any, *, port: int | None = None, http: str = "auto") -> Iterator[str]:
    """Any ASGI app under uvicorn in a thread; yields its base URL once it accepts requests."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=http)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    # FastAPI (0.165) prepares each route for requests on the first request an app routes.
    # Two apps in one process share our module-level routers, and preparing both at once
    # races inside FastAPI: a pydantic warning about a shared field, an error under the tests'
    # warning filter, and a 500. A path that matches nothing prepares every route now, while
    # this app is the only one starting.
    httpx.get(f"{url}/.routes-prepared", timeout=_START_SECONDS)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
