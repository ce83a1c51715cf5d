"""A background thread that runs one job every few seconds until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A background worker the runtime starts and stops."""

    def start(self) -> None:
        """Start it."""

    def stop(self) -> None:
        """Stop it."""


class Periodic:
    """Runs `job` every `seconds` on a daemon thread; a failing run is logged (by type only,
    never its message, which may hold data) and the next run happens as usual."""

    def __init__(self, name: str, job: Callable[[], object], *, seconds: float) -> None:
        self._name = name
        self._job = job
        self._seconds = seconds
        self._stopping = threading.Event()
        self._woken = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def wake(self) -> None:
        """Run the job now rather than at the next tick (once, however often called)."""
        self._woken.set()

    def stop(self) -> None:
        """Stop after the run in flight."""
        self._stopping.set()
        self._woken.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._woken.wait(self._seconds)
            self._woken.clear()
            if self._stopping.is_set():
                return
            try:
                self._job()
            except Exception as exc:  # a store outage must not end the thread
                log.warning("%s: a run failed: %s", self._name, type(exc).__name__)
