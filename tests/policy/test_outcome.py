from policy.outcome import Outcome, most_severe


def test_severity_order() -> None:
    assert [o.severity for o in Outcome] == [0, 1, 2, 3]
    assert most_severe([Outcome.SAMPLE, Outcome.DENY, Outcome.ALLOW]) is Outcome.DENY
    assert most_severe([Outcome.ALLOW, Outcome.ROUTE_TO_HUMAN]) is Outcome.ROUTE_TO_HUMAN


def test_no_outcome_is_none_not_allow() -> None:
    assert most_severe([]) is None
