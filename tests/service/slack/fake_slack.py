"""A stand-in for Slack's Web API on loopback: it records every call and answers as Slack
does, so the gateway's Slack client can be pointed at it (`SLUICEGATE_SLACK_API_URL`)."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.loopback import serving_app

CHANNEL_ID = "C0FINANCE"


@dataclass
class FakeSlack:
    """What the gateway sent, by Web API method, in order."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _stamps: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    def sent(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every call of `method` so far."""
        return [arguments for name, arguments in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, seconds: float = 15) -> list[dict[str, Any]]:
        """The calls of `method` once there are `count` of them; AssertionError after `seconds`."""
        deadline = time.monotonic() + seconds
        while len(self.sent(method)) < count:
            assert time.monotonic() < deadline, f"Slack got no {method} (calls: {self.calls})"
            time.sleep(0.05)
        return self.sent(method)

    async def answer(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        raw = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            arguments: dict[str, Any] = json.loads(raw or "{}")
        else:
            arguments = dict(parse_qsl(raw))
        arguments["_authorization"] = request.headers.get("authorization")
        self.calls.append((method, arguments))
        reply: dict[str, Any] = {"ok": True}
        if method == "chat.postMessage":
            reply |= {"channel": CHANNEL_ID, "ts": f"1767000000.{next(self._stamps):06d}"}
        elif method == "auth.test":
            reply |= {"user_id": "U0BOT", "bot_id": "B0BOT", "team_id": "T0ACME", "team": "acme"}
        elif method == "views.open":
            reply |= {"view": {"id": "V0REJECT"}}
        return JSONResponse(reply)


@contextmanager
def fake_slack() -> Iterator[tuple[FakeSlack, str]]:
    """A fake Slack served on loopback; yields it and its Web API URL."""
    fake = FakeSlack()
    app = Starlette(routes=[Route("/api/{method}", fake.answer, methods=["POST"])])
    with serving_app(app) as url:
        yield fake, f"{url}/api/"
