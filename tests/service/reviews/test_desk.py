"""The review desk with a clock the test moves: leases that run out, releases, wrong steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from service.auth.keys import create_key
from service.auth.principals import Principal
from service.auth.roles import Role
from service.errors import ClaimedByOther, ReviewClosed, WrongReviewKind
from service.reviews.desk import ReviewDesk
from service.reviews.models import PostHocVerdict, ReviewState
from service.runtime import Runtime
from tests.fixtures import REFUND


class Clock:
    """Now, as the test says."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(runtime: Runtime, clock: Clock) -> ReviewDesk:
    return ReviewDesk(runtime.database, runtime.pack, lease=timedelta(minutes=15), clock=clock)


def _reviewer(runtime: Runtime, name: str) -> Principal:
    principal, _ = create_key(
        runtime.database, name=name, role=Role.REVIEWER, scopes=["group:finance-approvers"]
    )
    return principal


def _review_id(client: TestClient, agent_headers: dict[str, str]) -> str:
    return str(
        client.post("/v1/decisions", json=REFUND, headers=agent_headers).json()["review"]["id"]
    )


def test_a_claim_lapses_when_its_lease_runs_out(
    client: TestClient,
    runtime: Runtime,
    agent_headers: dict[str, str],
    desk: ReviewDesk,
    clock: Clock,
) -> None:
    review_id = _review_id(client, agent_headers)
    fiona, felix = _reviewer(runtime, "fiona"), _reviewer(runtime, "felix")
    assert desk.claim(review_id, fiona).state is ReviewState.CLAIMED
    with pytest.raises(ClaimedByOther):
        desk.approve(review_id, felix)
    clock.now += timedelta(minutes=16)
    taken = desk.claim(review_id, felix)
    assert (taken.state, taken.claimed_by) == (ReviewState.CLAIMED, "felix")


def test_a_claim_can_be_given_back_only_by_its_holder(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str], desk: ReviewDesk
) -> None:
    review_id = _review_id(client, agent_headers)
    fiona, felix = _reviewer(runtime, "fiona"), _reviewer(runtime, "felix")
    desk.claim(review_id, fiona)
    with pytest.raises(ClaimedByOther):
        desk.release(review_id, felix)
    assert desk.release(review_id, fiona).state is ReviewState.PENDING
    assert desk.approve(review_id, felix).state is ReviewState.APPROVED
    with pytest.raises(ReviewClosed):
        desk.reject(review_id, fiona, "too late")


def test_blocking_reviews_take_no_verdict(
    client: TestClient, runtime: Runtime, agent_headers: dict[str, str], desk: ReviewDesk
) -> None:
    review_id = _review_id(client, agent_headers)
    with pytest.raises(WrongReviewKind):
        desk.give_verdict(review_id, _reviewer(runtime, "fiona"), PostHocVerdict.OK, None)


def test_nothing_times_out_before_it_is_due(
    client: TestClient, agent_headers: dict[str, str], desk: ReviewDesk, clock: Clock
) -> None:
    _review_id(client, agent_headers)
    assert desk.apply_timeouts() == 0
    clock.now += timedelta(hours=4, seconds=1)  # finance-approvers: PT4H, then deny
    assert desk.apply_timeouts() == 1
    assert desk.apply_timeouts() == 0
