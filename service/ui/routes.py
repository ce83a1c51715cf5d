"""The review pages: sign in, the queues, one queue, one review with approve / reject."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy import Engine

from policy.rule_pack import RulePack
from service.api.dependencies import (
    AuthenticatorDep,
    BoardDep,
    DatabaseDep,
    DeskDep,
    OidcDep,
    PackDep,
    SettingsDep,
)
from service.auth.oidc_sign_in import SignInFlow, SignInRefused
from service.auth.sessions import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    UiSession,
    new_csrf_token,
    principal_for_key,
    same_token,
    session_of,
    sign_in,
    sign_out,
)
from service.decisions.history import packet_context
from service.errors import IdentityProviderUnavailable, NotFound, ServiceError
from service.reviews.board import ReviewBoard
from service.reviews.eligibility import may_review
from service.reviews.models import (
    BatchResult,
    IncidentCause,
    PostHocVerdict,
    Review,
    ReviewKind,
    ReviewState,
)
from service.reviews.triage import TriageQuery
from service.settings import Settings
from service.ui.pages import SEE_OTHER, SessionCookie, SignedInDep, page

router = APIRouter(prefix="/ui", include_in_schema=False)
FormText = Annotated[str, Form()]
_EXPIRED = "The form expired; try again."
# The most reviews one batch approves (as POST /v1/reviews:approve takes).
_MOST_AT_ONCE = 100
_OPEN = (ReviewState.PENDING, ReviewState.CLAIMED)
OIDC_FLOW_COOKIE = "sg_oidc_flow"


@router.get("", response_class=HTMLResponse)
def home() -> RedirectResponse:
    """The queues are the home page."""
    return RedirectResponse("/ui/queues", SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/ui/queues") -> HTMLResponse:
    """The sign-in form."""
    return _login_page(request, settings, next_path=next)


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The sign-in form; its CSRF token is also set as a cookie (double submit)."""
    token = new_csrf_token()
    context = {
        "csrf_token": token,
        "next": _local(next_path),
        "error": error,
        "oidc": settings.oidc_issuer is not None,
        "key_sign_in": settings.ui_key_sign_in,
    }
    response = page(request, "login.html", context, status_code)
    _set_cookie(settings, response, LOGIN_CSRF_COOKIE, token, max_age=600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    *,
    authenticator: AuthenticatorDep,
    database: DatabaseDep,
    settings: SettingsDep,
    key: FormText,
    csrf_token: FormText,
    next: FormText = "/ui/queues",
    login_csrf: Annotated[str | None, Cookie(alias=LOGIN_CSRF_COOKIE)] = None,
) -> Response:
    """Exchange a reviewer, auditor or author key for a session cookie."""
    if not settings.ui_key_sign_in:
        error = "Key sign-in is switched off here: sign in with your organisation."
        return _login_page(request, settings, next_path=next, error=error, status_code=403)
    if not same_token(csrf_token, login_csrf):
        error = "The form expired; sign in again."
        return _login_page(request, settings, next_path=next, error=error, status_code=403)
    principal = principal_for_key(authenticator, key)
    if principal is None:
        error = "That key is unknown, revoked, or not a reviewer's, auditor's or author's."
        return _login_page(request, settings, next_path=next, error=error, status_code=401)
    token = sign_in(database, principal, hours=settings.ui_session_hours)
    response = RedirectResponse(_local(next), SEE_OTHER)
    _set_cookie(settings, response, COOKIE, token, max_age=int(settings.ui_session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui")
    return response


@router.get("/login/oidc")
def oidc_start(
    request: Request, settings: SettingsDep, oidc: OidcDep, next: str = "/ui/queues"
) -> Response:
    """Send the browser to the organisation's OpenID provider (code flow with PKCE)."""
    if oidc is None:
        raise NotFound("sign-in with an identity provider is not configured")
    try:
        url, flow = oidc.start(_local(next))
    except IdentityProviderUnavailable:
        error = "The identity provider cannot be reached. Try again shortly."
        return _login_page(request, settings, next_path=next, error=error, status_code=503)
    response = RedirectResponse(url, SEE_OTHER)
    # SameSite=Lax: the provider's redirect back is a top-level navigation from its site.
    response.set_cookie(
        OIDC_FLOW_COOKIE, flow.cookie(), max_age=600, path="/ui/login", httponly=True,
        secure=settings.ui_cookie_secure, samesite="lax",
    )  # fmt: skip
    return response


@router.get("/login/oidc/callback")
def oidc_finish(
    request: Request,
    *,
    settings: SettingsDep,
    database: DatabaseDep,
    oidc: OidcDep,
    code: str = "",
    state: str = "",
    error: str | None = None,
    flow_cookie: Annotated[str | None, Cookie(alias=OIDC_FLOW_COOKIE)] = None,
) -> Response:
    """Back from the provider: a session for the person the ID token names, or a page that
    says why not (an unknown person is never created)."""
    if oidc is None:
        raise NotFound("sign-in with an identity provider is not configured")
    flow = SignInFlow.from_cookie(flow_cookie)
    next_path = _local(flow.next_path if flow else "/ui/queues")
    try:
        if error or not code:
            raise SignInRefused(
                f"The identity provider did not sign you in ({error or 'no code'})."
            )
        principal, until = oidc.finish(flow, code=code, state=state)
    except SignInRefused as refused:
        return _login_page(
            request, settings, next_path=next_path, error=str(refused), status_code=403
        )
    except IdentityProviderUnavailable:
        error = "The identity provider cannot be reached. Try again shortly."
        return _login_page(request, settings, next_path=next_path, error=error, status_code=503)
    token = sign_in(database, principal, hours=settings.ui_session_hours, until=until)
    # A page that moves on by itself: the session cookie is SameSite=Strict, and a redirect
    # in a chain the provider's site started would not carry it.
    response = page(request, "signed_in.html", {"next": next_path})
    _set_cookie(settings, response, COOKIE, token, max_age=int(settings.ui_session_hours * 3600))
    response.delete_cookie(OIDC_FLOW_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
def logout(
    database: DatabaseDep, csrf_token: FormText, cookie: SessionCookie = None
) -> RedirectResponse:
    """End the session (the form's CSRF token must match it)."""
    session = session_of(database, cookie)
    if session is not None and same_token(csrf_token, session.csrf_token):
        sign_out(database, cookie)
    response = RedirectResponse("/ui/login", SEE_OTHER)
    response.delete_cookie(COOKIE, path="/ui")
    return response


@router.get("/queues", response_class=HTMLResponse)
def queues_page(request: Request, board: BoardDep, session: SignedInDep) -> Response:
    """Every queue this reviewer works, with counts and the next time box to run out."""
    summaries = board.queues(session.principal)
    return page(request, "queues.html", {"session": session, "queues": summaries})


@router.get("/queues/{name}", response_class=HTMLResponse)
def queue_page(name: str, request: Request, board: BoardDep, session: SignedInDep) -> Response:
    """A queue's open reviews to triage: sorted and filtered as the URL says."""
    error: str | None = None
    try:
        query = TriageQuery.model_validate({k: v for k, v in request.query_params.items() if v})
    except ValidationError:
        query, error = TriageQuery(), "That filter is not one this page understands; showing all."
    return _queue(request, board, session, name, query, error=error)


@router.post("/queues/{name}/approve", response_class=HTMLResponse)
async def approve_together(
    name: str, request: Request, board: BoardDep, desk: DeskDep, session: SignedInDep
) -> Response:
    """Approve the selected reviews together, one note for each (POST /v1/reviews:approve)."""
    form = await request.form()
    if not same_token(str(form.get("csrf_token", "")), session.csrf_token):
        return _queue(request, board, session, name, TriageQuery(), error=_EXPIRED, status=403)
    chosen = [str(value) for value in form.getlist("review_id")][:_MOST_AT_ONCE]
    if not chosen:
        error = "Select the reviews to approve first."
        return _queue(request, board, session, name, TriageQuery(), error=error, status=400)
    note = str(form.get("note", "")).strip() or None
    try:
        results = await asyncio.to_thread(desk.approve_alike, chosen, session.principal, note)
    except ServiceError as exc:
        return _queue(
            request, board, session, name, TriageQuery(), error=str(exc), status=exc.status
        )
    approved = sum(result.ok for result in results)
    notice = f"{approved} of {len(results)} approved."
    return _queue(request, board, session, name, TriageQuery(), notice=notice, results=results)


def _queue(
    request: Request,
    board: ReviewBoard,
    session: UiSession,
    name: str,
    query: TriageQuery,
    *,
    notice: str | None = None,
    error: str | None = None,
    results: list[BatchResult] | None = None,
    status: int = 200,
) -> HTMLResponse:
    try:
        every = board.triage(session.principal, name, TriageQuery())
    except ServiceError:
        return page(request, "error.html", {"session": session, "message": "No such queue."}, 404)
    rows = every if query == TriageQuery() else board.triage(session.principal, name, query)
    context = {
        "session": session,
        "queue": name,
        "rows": rows,
        "query": query,
        "filtered": query != TriageQuery(),
        "action_types": sorted({row.review.action_type for row in every}),
        "agents": sorted({row.agent for row in every}),
        "notice": notice,
        "error": error,
        "results": results,
    }
    return page(request, "queue.html", context, status)


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_page(
    *,
    review_id: str,
    request: Request,
    board: BoardDep,
    pack: PackDep,
    database: DatabaseDep,
    session: SignedInDep,
    done: str | None = None,
) -> Response:
    """One review: the packet with its context, the reasons, and the forms to act on it."""
    check = board.revealed_check(review_id) if done else None  # when the pack tells
    return _review(
        request, board, pack, session, review_id, notice=done, database=database, check=check
    )


def _review(
    request: Request,
    board: ReviewBoard,
    pack: RulePack,
    session: UiSession,
    review_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    database: Engine,
    check: tuple[str, str] | None = None,
) -> HTMLResponse:
    try:
        packet = board.packet(review_id, session.principal)
    except ServiceError:
        return page(request, "error.html", {"session": session, "message": "No such review."}, 404)
    queue = pack.data.queues.get(packet.queue)
    following = [
        row.review.id
        for row in board.triage(session.principal, packet.queue, TriageQuery())
        if row.review.id != packet.id
    ]
    context = {
        "packet_context": packet_context(database, packet),
        "check": check,
        "next_review": following[0] if following else None,
        "session": session,
        "review": packet,
        "proposal": packet.proposal,
        "decision": packet.decision,
        "can_act": may_review(session.principal, queue) and packet.state in _OPEN,
        "blocking": packet.kind is ReviewKind.BLOCKING,
        "verdicts": list(PostHocVerdict),
        "causes": list(IncidentCause),
        "notice": notice,
        "error": error,
    }
    return page(request, "review.html", context, status_code)


@router.post("/reviews/{review_id}/{step}", response_class=HTMLResponse)
async def review_step(
    *,
    review_id: str,
    step: str,
    request: Request,
    board: BoardDep,
    desk: DeskDep,
    pack: PackDep,
    database: DatabaseDep,
    session: SignedInDep,
) -> Response:
    """Claim, approve, reject or give a verdict from the review page."""
    form = await request.form()
    if not same_token(str(form.get("csrf_token", "")), session.csrf_token):
        return _review(
            request,
            board,
            pack,
            session,
            review_id,
            error=_EXPIRED,
            status_code=403,
            database=database,
        )
    note = str(form.get("note", "")).strip() or None
    cause = IncidentCause.named(form.get("cause"))
    actions: dict[str, Callable[[], Review]] = {
        "claim": lambda: desk.claim(review_id, session.principal),
        "release": lambda: desk.release(review_id, session.principal),
        "approve": lambda: desk.approve(review_id, session.principal, note),
        "reject": lambda: desk.reject(
            review_id, session.principal, note or "", cause or IncidentCause.OTHER
        ),
        "verdict": lambda: desk.give_verdict(
            review_id, session.principal, PostHocVerdict(str(form.get("verdict"))), note, cause
        ),
    }
    action = actions.get(step)
    if action is None or (step == "verdict" and form.get("verdict") not in set(PostHocVerdict)):
        return _review(
            request,
            board,
            pack,
            session,
            review_id,
            error="Unknown step.",
            status_code=400,
            database=database,
        )
    try:
        review = await asyncio.to_thread(action)
    except ServiceError as exc:
        return _review(
            request,
            board,
            pack,
            session,
            review_id,
            error=str(exc),
            status_code=exc.status,
            database=database,
        )
    return RedirectResponse(f"/ui/reviews/{review_id}?done={review.state.value}", SEE_OTHER)


def _local(path: str) -> str:
    """Only redirect within the review pages (no open redirect)."""
    return (
        path if path.startswith("/ui/") and "//" not in path and "\\" not in path else "/ui/queues"
    )


def _set_cookie(
    settings: Settings, response: Response, name: str, value: str, *, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        secure=settings.ui_cookie_secure,
        samesite="strict",
    )
