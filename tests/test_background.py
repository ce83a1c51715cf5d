"""A call a test waits for on another thread fails that test, with a message, and only that
test: its exception never reaches pytest's thread hook (which would report it in a later
test, as a timed-out long poll once failed the README tour)."""

from __future__ import annotations

import threading

import pytest

from tests.background import InBackground, all_results


def test_the_value_comes_back() -> None:
    assert InBackground(lambda: 41 + 1).result(timeout=5) == 42


def test_the_threads_own_error_fails_the_waiting_test() -> None:
    def fails() -> None:
        raise TimeoutError("the long poll timed out")

    call = InBackground(fails, name="the agent's long poll")
    with pytest.raises(AssertionError, match="the agent's long poll failed: TimeoutError"):
        call.result(timeout=5)


def test_a_call_still_running_is_named() -> None:
    release = threading.Event()
    call = InBackground(lambda: release.wait(10), name="a slow reviewer")
    try:
        with pytest.raises(AssertionError, match=r"a slow reviewer still running after 0\.1 s"):
            call.result(timeout=0.1)
    finally:
        release.set()
    assert call.result(timeout=5) is True


def test_an_unwaited_failure_is_not_reported_elsewhere() -> None:
    """Pytest turns an unhandled thread exception into an error (filterwarnings = error);
    a failing call nobody waits for raises nothing, here or later."""
    InBackground(lambda: 1 / 0, name="forgotten")
    assert all_results([InBackground(lambda: "x")], timeout=5) == ["x"]
