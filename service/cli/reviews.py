"""`sluicegate reviews ...`: work a review queue from a terminal, through the gate's API.

Every command speaks to a running gate with a reviewer's key, so the desk's rules apply as
on the page or in Slack (who may act, two distinct approvers, no self-review, the lease). A
review is named by its id or by the decision it reviews: the id a held MCP call names."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

reviews = typer.Typer(
    help="List, read, approve and reject reviews (with a reviewer's key).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Gate = Annotated[str, typer.Option(help="The gate's URL.", envvar="SLUICEGATE_GATE_URL")]
Key = Annotated[
    str,
    typer.Option(
        help="A reviewer's key (never put it in shell history: use the variable).",
        envvar="SLUICEGATE_KEY",
    ),
]
Named = Annotated[str, typer.Argument(help="A review id, or the id of the decision it reviews.")]
DEFAULT_GATE = "http://127.0.0.1:8000"


@reviews.command("list")
def list_reviews(
    gate: Gate = DEFAULT_GATE,
    key: Key = "",
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    state: Annotated[
        str | None, typer.Option(help="pending, claimed, approved, rejected, expired, reviewed.")
    ] = None,
) -> None:
    """Reviews in my queues, soonest due first: id, queue, state, due, action, decision."""
    params = {name: value for name, value in (("queue", queue), ("state", state)) if value}
    for review in _call(gate, key, "GET", "/v1/reviews", params=params):
        typer.echo(
            f"{review['id']}  {review['queue']}  {review['state']}  due {review['due_at']}  "
            f"{review['action_type']}  decision {review['decision_id']}"
        )


@reviews.command("show")
def show(named: Named, gate: Gate = DEFAULT_GATE, key: Key = "") -> None:
    """The review's packet: the proposal with its changes and the rules' reasons (JSON)."""
    packet = _call(gate, key, "GET", f"/v1/reviews/{_review_id(gate, key, named)}")
    typer.echo(json.dumps(packet, indent=2))


@reviews.command("approve")
def approve(
    named: Named,
    gate: Gate = DEFAULT_GATE,
    key: Key = "",
    note: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
) -> None:
    """Approve a blocking review (a two-approver review needs a second, distinct approver)."""
    review_id = _review_id(gate, key, named)
    body = {"note": note} if note else {}
    _resolved(_call(gate, key, "POST", f"/v1/reviews/{review_id}/approve", json=body))


@reviews.command("reject")
def reject(
    named: Named,
    note: Annotated[str, typer.Option(help="Why (required; the agent reads it).")],
    gate: Gate = DEFAULT_GATE,
    key: Key = "",
    cause: Annotated[
        str,
        typer.Option(help="ambiguous_spec, model_error, missing_context, policy_gap or other."),
    ] = "other",
) -> None:
    """Reject a blocking review, saying why."""
    review_id = _review_id(gate, key, named)
    body = {"note": note, "cause": cause}
    _resolved(_call(gate, key, "POST", f"/v1/reviews/{review_id}/reject", json=body))


def _resolved(review: dict[str, Any]) -> None:
    approvals = len(review["approvals"])
    typer.echo(
        f"{review['id']}: {review['state']} "
        f"({approvals} of {review['approvals_required']} approvals)"
    )


def _review_id(gate: str, key: str, named: str) -> str:
    """The review's id: `named` itself, or the blocking review of the decision it names."""
    found = _call(gate, key, "GET", "/v1/reviews", params={"decision": named, "kind": "blocking"})
    return str(found[0]["id"]) if found else named


def _call(gate: str, key: str, method: str, path: str, **request: Any) -> Any:
    """One request to the gate; its error (code and message) ends the command with exit 1."""
    import httpx

    if not key:
        typer.echo("a reviewer's key is required: --key or SLUICEGATE_KEY", err=True)
        raise typer.Exit(2)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        answer = httpx.request(method, gate.rstrip("/") + path, headers=headers, **request)
    except httpx.HTTPError as exc:
        typer.echo(f"the gate at {gate} cannot be reached: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from exc
    if answer.is_error:
        error = answer.json().get("error", {}) if _is_json(answer) else {}
        code, message = error.get("code", f"http_{answer.status_code}"), error.get("message", "")
        typer.echo(f"refused: {code}: {message}", err=True)
        raise typer.Exit(1)
    return answer.json()


def _is_json(answer: Any) -> bool:
    return str(answer.headers.get("content-type", "")).startswith("application/json")
