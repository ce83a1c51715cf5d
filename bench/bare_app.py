"""The baseline: a bare FastAPI endpoint that parses the same proposal and answers fixed JSON."""

from fastapi import FastAPI, Request, Response

from policy.proposal import Proposal

app = FastAPI()
_ANSWER = b'{"decision_id":"bench","outcome":"allow","risk_tier":1}'


@app.post("/v1/decisions")
async def bare(request: Request) -> Response:
    """Validate the body like the gate does, then answer without deciding or recording."""
    Proposal.model_validate_json(await request.body())
    return Response(_ANSWER, status_code=201, media_type="application/json")
