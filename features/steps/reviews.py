"""Steps for the review and lifecycle features: a running gateway, reviewers, the agent."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlalchemy import text, update

from features.conftest import World, proposal_named
from service.app import create_app
from service.auth.keys import create_key
from service.auth.principals import principal_named
from service.auth.roles import Role
from service.reviews.tables import REVIEW_TASKS
from service.runtime import Runtime
from tests.background import InBackground
from tests.fixtures import AUDIT_KEY

_SETTLE_SECONDS = 10.0


class Desk:
    """The review side of a scenario: reviewer keys, the decision under review, answers."""

    def __init__(self) -> None:
        self.reviewers: dict[str, dict[str, str]] = {}
        self.decision: dict[str, Any] = {}
        self.decision_proposal: dict[str, Any] = {}
        self.last: Any = None  # the TestClient's last response
        self.waiter: InBackground[None] | None = None
        self.waited: dict[str, Any] = {}


@pytest.fixture
def desk() -> Desk:
    return Desk()


def _runtime(world: World) -> Runtime:
    assert world.client is not None
    found: Runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    return found


def _client(world: World) -> TestClient:
    assert world.client is not None
    return world.client


def _review_id(world: World, desk: Desk) -> str:
    if desk.decision.get("review"):
        return str(desk.decision["review"]["id"])
    reviews = _runtime(world).board.reviews(
        _principal_of(world, desk), queue=None, limit=200
    )  # a post-hoc review has no id in the decision; find it by decision
    return next(r.id for r in reviews if r.decision_id == desk.decision["decision_id"])


def _principal_of(world: World, desk: Desk) -> Any:
    key = next(iter(desk.reviewers.values()))["Authorization"].removeprefix("Bearer ")
    return _runtime(world).authenticator.authenticate(key)


def _status(world: World, desk: Desk) -> dict[str, Any]:
    path = f"/v1/decisions/{desk.decision['decision_id']}"
    body: dict[str, Any] = _client(world).get(path, headers=world.headers).json()
    return body


def _ok(desk: Desk) -> dict[str, Any]:
    assert desk.last is not None
    assert desk.last.status_code == 200, desk.last.text
    body: dict[str, Any] = desk.last.json()
    return body


# -- given ----------------------------------------------------------------------------------


@given("a running gateway with review queues")
def gateway_with_reviews(world: World) -> None:
    world.settings = world.backend.settings(
        database_url=world.database_url, audit_signing_key=AUDIT_KEY, sla_tick_seconds=0.05
    )
    world.client = TestClient(create_app(world.settings))
    world.client.__enter__()


@given(parsers.parse('reviewers "{first}" and "{second}" in the {queue} group'))
def reviewers(world: World, desk: Desk, first: str, second: str, queue: str) -> None:
    for name in (first, second):
        _, key = create_key(
            _runtime(world).database, name=name, role=Role.REVIEWER, scopes=[f"group:{queue}"]
        )
        desk.reviewers[name] = {"Authorization": f"Bearer {key}"}


@given(parsers.parse('an agent key owned by the reviewer "{owner}" of the {queue} group'))
def owned_agent(world: World, desk: Desk, owner: str, queue: str) -> None:
    database = _runtime(world).database
    _, key = create_key(database, name=owner, role=Role.REVIEWER, scopes=[f"group:{queue}"])
    desk.reviewers[owner] = {"Authorization": f"Bearer {key}"}
    owner_id = principal_named(database, owner)
    _, agent_key = create_key(
        database, name="owned-agent", role=Role.AGENT, scopes=["*"], owner_id=owner_id
    )
    world.headers = {"Authorization": f"Bearer {agent_key}"}


# -- when -----------------------------------------------------------------------------------


@when(parsers.re(r"the agent proposes (?P<example>.+) in (?P<environment>\w+)$"))
def ask(world: World, desk: Desk, example: str, environment: str) -> None:
    answer = _client(world).post(
        "/v1/decisions", json=proposal_named(example, environment), headers=world.headers
    )
    assert answer.status_code == 201, answer.text
    desk.decision = answer.json()
    desk.decision_proposal = proposal_named(example, environment)


def _step(world: World, desk: Desk, reviewer: str, step: str, body: Any = None) -> None:
    path = f"/v1/reviews/{_review_id(world, desk)}/{step}"
    desk.last = _client(world).post(path, json=body, headers=desk.reviewers[reviewer])


@when(parsers.parse("{reviewer} claims the review"))
def claims(world: World, desk: Desk, reviewer: str) -> None:
    _step(world, desk, reviewer, "claim")


@when(parsers.parse("{reviewer} approves the review"))
def approves(world: World, desk: Desk, reviewer: str) -> None:
    _step(world, desk, reviewer, "approve", {})


@when(parsers.parse("{reviewer} rejects the review without a note"))
def rejects_silently(world: World, desk: Desk, reviewer: str) -> None:
    _step(world, desk, reviewer, "reject", {"note": "  "})


@when(parsers.parse('{reviewer} rejects the review with the note "{note}"'))
def rejects(world: World, desk: Desk, reviewer: str, note: str) -> None:
    _step(world, desk, reviewer, "reject", {"note": note})


@when(parsers.parse("{reviewer} finds that it should not have happened, without a note"))
def verdict_silently(world: World, desk: Desk, reviewer: str) -> None:
    _step(world, desk, reviewer, "verdict", {"verdict": "should_not_have_happened"})


@when(parsers.parse('{reviewer} finds that it should not have happened, noting "{note}"'))
def verdict(world: World, desk: Desk, reviewer: str, note: str) -> None:
    body = {"verdict": "should_not_have_happened", "note": note}
    _step(world, desk, reviewer, "verdict", body)


@when("the agent waits for the review")
def agent_waits(world: World, desk: Desk) -> None:
    path = f"/v1/decisions/{desk.decision['decision_id']}?wait=30"

    def wait() -> None:
        desk.waited["body"] = _client(world).get(path, headers=world.headers).json()
        desk.waited["at"] = time.monotonic()

    desk.waiter = InBackground(wait, name="the agent's long poll")
    time.sleep(0.3)  # let the poll reach the gateway before anyone approves


@when("the review's time box runs out")
def time_box_runs_out(world: World, desk: Desk) -> None:
    review_id = _review_id(world, desk)
    before = _status(world, desk)["review"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    with world.database() as db:
        db.execute(update(REVIEW_TASKS).where(REVIEW_TASKS.c.id == review_id).values(due_at=past))
    deadline = time.monotonic() + _SETTLE_SECONDS
    while time.monotonic() < deadline:  # the SLA clock ticks every 50 ms here
        now = _status(world, desk)["review"]
        if now["state"] != before["state"] or now["queue"] != before["queue"]:
            return
        time.sleep(0.05)
    raise AssertionError("the SLA clock did not act on the review")


@when(parsers.re(r"the agent uses the approval for (?P<example>.+) in (?P<environment>\w+)$"))
def use_approval(world: World, desk: Desk, example: str, environment: str) -> None:
    use_approval_of(world, desk, proposal_named(example, environment))


def use_approval_of(world: World, desk: Desk, proposal: dict[str, Any]) -> None:
    desk.last = _client(world).post(
        f"/v1/decisions/{desk.decision['decision_id']}/proceed",
        json=proposal,
        headers=world.headers,
    )


# -- then -----------------------------------------------------------------------------------


@then(parsers.parse("the review is claimed by {reviewer}"))
def claimed_by(desk: Desk, reviewer: str) -> None:
    review = _ok(desk)
    assert review["state"] == "claimed"
    assert review["claimed_by"] == reviewer


@then(parsers.parse("{reviewer} claiming the review is refused with {code}"))
def claim_refused(world: World, desk: Desk, reviewer: str, code: str) -> None:
    _step(world, desk, reviewer, "claim")
    refused(desk, code)


@then(parsers.parse("the step is refused with {code}"))
def refused(desk: Desk, code: str) -> None:
    assert desk.last is not None
    assert desk.last.status_code in (403, 409, 422), desk.last.text
    assert desk.last.json()["error"]["code"] == code


@then(parsers.parse("the agent's wait ends with status {status}"))
def wait_ends(desk: Desk, status: str) -> None:
    approved_at = time.monotonic()
    assert desk.waiter is not None
    desk.waiter.result(timeout=_SETTLE_SECONDS)
    assert desk.waited["body"]["status"] == status
    # The poll was woken by the approval, not by its 30 s limit.
    assert desk.waited["at"] - approved_at < _SETTLE_SECONDS


@then(parsers.parse("the decision's status is {status}"))
def status_is(world: World, desk: Desk, status: str) -> None:
    assert _status(world, desk)["status"] == status


@then(parsers.parse("the audit log records {kind} for the decision"))
def audit_records(world: World, desk: Desk, kind: str) -> None:
    with world.database() as db:
        kinds = [
            row[0]
            for row in db.execute(
                text("SELECT kind FROM audit_events WHERE decision_id = :id ORDER BY seq"),
                {"id": desk.decision["decision_id"]},
            )
        ]
    assert kinds[0] == "decision"
    assert kind in kinds


@then(parsers.parse("the review needs {count:d} approvals"))
def needs_approvals(desk: Desk, count: int) -> None:
    assert desk.decision["review"]["approvals_required"] == count


@then(parsers.parse("the review is in the {queue} queue with a new time box"))
def escalated_to(world: World, desk: Desk, queue: str) -> None:
    review = _status(world, desk)["review"]
    assert review["queue"] == queue
    assert review["state"] == "pending"
    assert datetime.fromisoformat(review["due_at"]) > datetime.now(UTC)


@then("the approval is spent")
def approval_spent(world: World, desk: Desk) -> None:
    assert _ok(desk)["review_id"] == desk.decision["review"]["id"]
    assert _status(world, desk)["review"]["used_at"] is not None


@then(parsers.parse("a post-hoc review is open in the {queue} queue"))
def post_hoc_open(world: World, desk: Desk, queue: str) -> None:
    assert desk.decision["outcome"] == "sample"
    assert desk.decision["sample"]["selected"] is True
    listed = (
        _client(world)
        .get(
            "/v1/reviews",
            params={"kind": "post_hoc", "queue": queue},
            headers=desk.reviewers["fiona"],
        )
        .json()
    )
    assert [r["decision_id"] for r in listed] == [desk.decision["decision_id"]]


@then(parsers.parse("the post-hoc review is closed with verdict {verdict_value}"))
def post_hoc_closed(desk: Desk, verdict_value: str) -> None:
    review = _ok(desk)
    assert review["state"] == "reviewed"
    assert review["verdict"] == verdict_value


@then(parsers.parse("using the approval is refused with {code}"))
def using_refused(world: World, desk: Desk, code: str) -> None:
    use_approval_of(world, desk, desk.decision_proposal)
    refused(desk, code)


# -- the action's outcome -------------------------------------------------------------------


def _report(world: World, desk: Desk, status: str, artifact: dict[str, Any]) -> None:
    desk.last = _client(world).post(
        f"/v1/decisions/{desk.decision['decision_id']}/outcome",
        json={"status": status, "artifact": artifact},
        headers=world.headers,
    )


@when(parsers.re(r"the agent reports it (?P<status>\w+) with (?P<fields>[\w ]+)$"))
def reports_with(world: World, desk: Desk, status: str, fields: str) -> None:
    names = [name for name in fields.replace(" and ", " ").split() if name]
    _report(world, desk, status, {name: f"{name}-value" for name in names})


@when(parsers.re(r"the agent reports it (?P<status>\w+)$"))
def reports(world: World, desk: Desk, status: str) -> None:
    _report(world, desk, status, {})


@then(parsers.parse("the report says {field} is missing for done"))
def missing_for_done(desk: Desk, field: str) -> None:
    assert field in _ok(desk)["missing_for_done"]
