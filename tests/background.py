"""A call a test waits for on another thread, whose failure stays the test's own.

A plain thread that raises (a long poll timing out on a busy machine, say) leaves its
exception to pytest's thread hook, which reports it in whatever test runs next. Here the
thread keeps its outcome, and `result` gives the value to the test that waits, raises the
thread's own error there, or fails it with a message when the call is still running."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class InBackground(Generic[T]):
    """`call()` started at once on a daemon thread (a stuck call cannot hang the run)."""

    def __init__(self, call: Callable[[], T], *, name: str = "background call") -> None:
        self._call = call
        self._name = name
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as error:  # kept for the waiting test, never lost to the hook
            self._error = error

    def result(self, timeout: float) -> T:
        """The call's value; its own exception; or AssertionError after `timeout` seconds."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"{self._name} still running after {timeout:g} s")
        if self._error is not None:
            raise AssertionError(f"{self._name} failed: {self._error!r}") from self._error
        return self._value  # type: ignore[return-value]


def all_results(calls: list[InBackground[T]], timeout: float) -> list[T]:
    """Every call's value, in order; the first failure (or overdue call) fails the test."""
    return [call.result(timeout) for call in calls]
