"""kill -9 under load, three times: no acknowledged decision is missing from the log, and the
chain verifies after every restart, on SQLite and on PostgreSQL (bench/crash_safety.py)."""

from __future__ import annotations

import pytest

from bench.crash_safety import ROUNDS, crash_rounds


@pytest.mark.integration
def test_acknowledged_decisions_survive_kill_9(database_url: str) -> None:
    report = crash_rounds(database_url)
    store = database_url.split(":", maxsplit=1)[0]
    print(f"{store}: {report.acknowledged} acknowledged, {len(report.lost)} lost")
    assert report.acknowledged > 0
    assert report.lost == []
    assert report.verified == [True] * ROUNDS
