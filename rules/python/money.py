"""Money rules: an irreversible movement above the autonomous limit needs a named approver."""

from policy.rule_api import Environment, Outcome, Reversibility, RuleInput, Verdict, rule


@rule("money.irreversible_over_limit")
def irreversible_over_limit(given: RuleInput) -> Verdict | None:
    """Irreversible money above the limit of its currency goes to the owner queue.

    Sandbox money is not real, so the autonomy table alone governs it there.
    """
    amount = given.proposal.action.amount
    if given.proposal.action.environment is Environment.SANDBOX:
        return None
    if amount is None or given.assessment.reversibility is not Reversibility.IRREVERSIBLE:
        return None
    if not given.assessment.over_limit:
        return None
    limit = given.data.limits.autonomous_limit.get(amount.currency)
    noun = given.proposal.action.type.split(".")[-2]
    if limit is None:
        message = f"{noun} in {amount.currency}, a currency with no autonomous limit"
    else:
        message = (
            f"{noun} of {amount.value:g} {amount.currency} exceeds the "
            f"{limit:g} {amount.currency} autonomous limit"
        )
    return Verdict(outcome=Outcome.ROUTE_TO_HUMAN, message=message)
