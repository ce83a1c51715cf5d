import uuid_utils

from policy.sampling import is_selected


def test_selection_is_a_function_of_the_decision_id() -> None:
    ids = [str(uuid_utils.uuid7()) for _ in range(2000)]
    first = [is_selected(i, 0.25) for i in ids]
    assert first == [is_selected(i, 0.25) for i in ids]
    assert 0.2 < sum(first) / len(ids) < 0.3  # about the rate (binomial sd ~ 0.01)


def test_rate_bounds() -> None:
    assert is_selected("any", 1.0)
    assert not is_selected("any", 0.0)
