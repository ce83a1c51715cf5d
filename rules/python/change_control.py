"""Change control: very large batches of changes are reviewed, whatever else they are."""

from policy.rule_api import Outcome, RuleInput, Verdict, rule


@rule("change_control.bulk_change")
def bulk_change(given: RuleInput) -> Verdict | None:
    """More changes in one proposal than the bulk threshold go to the owner queue."""
    count = len(given.proposal.changes)
    threshold = given.data.limits.bulk_change_threshold
    if count <= threshold:
        return None
    return Verdict(
        outcome=Outcome.ROUTE_TO_HUMAN,
        message=f"{count} changes in one proposal; more than {threshold} need a reviewer",
    )
