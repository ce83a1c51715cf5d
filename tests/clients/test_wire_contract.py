"""The client keeps its own copy of the wire contract; this holds it to the server's."""

from __future__ import annotations

from sluicegate_client import models as client

from policy.decision import Decision
from policy.outcome import Outcome
from service.decisions.status import ActionStatus, DecisionStatus
from service.reviews.models import ApprovalUse


def test_the_enums_have_the_same_values() -> None:
    assert {o.value for o in client.Outcome} == {o.value for o in Outcome}
    assert {s.value for s in client.ActionStatus} == {s.value for s in ActionStatus}


def test_every_field_the_client_reads_is_one_the_server_sends() -> None:
    pairs = (
        (client.Decision, Decision),
        (client.DecisionStatus, DecisionStatus),
        (client.ApprovalUse, ApprovalUse),
    )
    for ours, theirs in pairs:
        assert set(ours.model_fields) <= set(theirs.model_fields), ours.__name__
    review_fields = set(DecisionStatus.model_fields["review"].annotation.__args__[0].model_fields)  # type: ignore[union-attr]
    assert set(client.Review.model_fields) <= review_fields
