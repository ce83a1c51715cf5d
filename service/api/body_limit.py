"""Refuse request bodies above the configured size, without holding them in memory, and so
that the client reads its 413 instead of a reset connection."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.error_handlers import error_response
from service.errors import BodyTooLarge

# How much of an oversize body is read and thrown away before the 413 goes out. Answering
# while the client still sends makes the server close a connection with unread data, which
# the client sees as a reset or a broken pipe; past this bound it may.
DRAIN_BYTES = 32 * 1024 * 1024


class BodyLimit:
    """ASGI middleware: a declared or streamed body larger than `max_bytes` gets 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _drain(receive, already=0)
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                if message.get("more_body"):
                    await _drain(receive, already=seen)
                raise BodyTooLarge(self._message())
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, BodyTooLarge.code, self._message(), [])
        await response(scope, receive, send)

    def _message(self) -> str:
        return f"the body is larger than {self.max_bytes} bytes"


async def _drain(receive: Receive, *, already: int) -> None:
    """Read and discard the rest of the body, up to DRAIN_BYTES in all."""
    drained = already
    while drained <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return
