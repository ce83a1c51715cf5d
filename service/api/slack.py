"""`POST /v1/integrations/slack/interactions`: Slack's button presses and modal submissions.

Authenticated by Slack's request signature (service/slack/interactions.py), not by an API
key; left out of the OpenAPI document, since only Slack calls it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from service.api.dependencies import RuntimeDep
from service.errors import NotFound

# Not the strict JSON route: Slack posts forms, and an unsigned request of any body gets 401.
router = APIRouter(prefix="/v1/integrations/slack", tags=["integrations"])


@router.post("/interactions", include_in_schema=False)
async def interactions(request: Request, runtime: RuntimeDep) -> Response:
    """Hand the request to the Slack app: 401 when its signature does not verify, 400 when
    a signed payload is not one Slack sends."""
    if runtime.slack is None:
        raise NotFound("Slack is not configured on this gateway")
    body = await request.body()
    answer = await run_in_threadpool(
        runtime.slack.dispatch, body, request.url.query, dict(request.headers)
    )
    media = answer.headers.get("content-type", ["text/plain"])[0]
    return Response(answer.body, status_code=answer.status, media_type=media)
