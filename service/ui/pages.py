"""What every review page shares: templates, the signed-in session, and safe responses.

Every page that needs a person takes `SignedInDep`: without a live session it raises
`SignInNeeded`, which `install_sign_in` answers for the whole app by sending the browser to
sign in and back, so no page checks the cookie itself."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Cookie, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from service.api.dependencies import DatabaseDep
from service.auth.sessions import COOKIE, UiSession, session_of
from service.errors import SignInNeeded
from service.reviews.agent_text import one_line, visible

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
SessionCookie = Annotated[str | None, Cookie(alias=COOKIE)]
SEE_OTHER = 303


def duration(span: timedelta) -> str:
    """A time box as people say it: 4h, 1h 30m, 2d."""
    minutes = int(span.total_seconds() // 60)
    days, hours, rest = minutes // 1440, minutes % 1440 // 60, minutes % 60
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{rest}m" if rest else ""]
    return " ".join(p for p in parts if p) or f"{int(span.total_seconds())}s"


templates.env.filters["duration"] = duration
# What the agent wrote, with control characters shown (`agent_lines` keeps its new lines):
# the templates put it in boxes of class `agent-text`, apart from the gate's own words.
templates.env.filters["agent"] = visible
templates.env.filters["agent_lines"] = lambda value: visible(value, keep_lines=True)
templates.env.filters["agent_line"] = one_line  # one line, cut with a count of what was left out


def signed_in(database: DatabaseDep, cookie: SessionCookie = None) -> UiSession:
    """The browser's live session (a dependency, run in the thread pool: it reads the
    store); `SignInNeeded` when there is none."""
    session = session_of(database, cookie)
    if session is None:
        raise SignInNeeded()
    return session


SignedInDep = Annotated[UiSession, Depends(signed_in)]


async def _to_sign_in(request: Request, _exc: Exception) -> Response:
    """Send the browser to sign in, and back here afterwards."""
    return RedirectResponse(f"/ui/login?next={quote(request.url.path)}", SEE_OTHER)


def install_sign_in(app: FastAPI) -> None:
    """Answer `SignInNeeded` (a page without a session) by sending the browser to sign in."""
    app.add_exception_handler(SignInNeeded, _to_sign_in)


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A rendered template, never cached, under a strict Content-Security-Policy."""
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    response.headers["content-security-policy"] = (
        "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
        "form-action 'self'"
    )
    response.headers["x-content-type-options"] = "nosniff"
    return response
