"""The runtime is built by named steps and undone in reverse: every step's threads start,
`close` stops them all and signs the head as the writer left it, and a step that fails half
way through a start undoes the steps before it (no thread, no connection left behind)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr

from service.audit.checkpoints import list_checkpoints
from service.audit.signing import new_private_pem
from service.audit.verify import verify_store
from service.runtime import Runtime
from service.settings import Settings
from service.store.database import database_engine
from tests.fixtures import RULES

# Each step, in order, and the threads it starts.
STEPS = {
    "_open_store": set(),
    "_load_rules": {"gate-eval"},
    "_start_decisions": {"decision-writer"},
    "_open_reviews": set(),
    "_start_integrations": {"webhook-sender", "slack-notifier"},
    "_start_workers": {
        "sla-clock",
        "shadow",
        "shadow-watch",
        "adaptive-sampling",
        "canary-seeder",
        "audit-checkpoints",
    },
}
LISTENER = "listen-sluicegate_review_resolved"


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        rules=RULES,
        audit_signing_key=SecretStr(new_private_pem()),
        slack_signing_secret=SecretStr("signing-secret"),
        slack_bot_token=SecretStr("xoxb-test"),
        slack_api_url="http://127.0.0.1:9/api/",  # never called: no review waits
    )


def _threads() -> list[str]:
    """Our threads now alive (an evaluation pool's threads are named gate-eval_N)."""
    return [re.sub(r"_\d+$", "", thread.name) for thread in threading.enumerate()]


def test_every_step_starts_and_close_stops_what_it_started(database_url: str) -> None:
    before = _threads()
    runtime = Runtime(_settings(database_url))
    try:
        started = set(_threads()) - set(before)
    finally:
        runtime.close()
    expected = {name for names in STEPS.values() for name in names if name != "gate-eval"}
    if database_url.startswith("postgresql"):
        expected.add(LISTENER)
    assert expected <= started
    assert sorted(_threads()) == sorted(before)

    database = database_engine(database_url)
    try:  # the checkpoint at stop was signed after the writer drained: it names the head
        checkpoints = list_checkpoints(database)
        verified = verify_store(database, runtime.signing_key.public_key())
    finally:
        database.dispose()
    assert verified.ok
    assert checkpoints[-1].seq == verified.head_seq > 0


@pytest.mark.parametrize("failing", list(STEPS))
def test_a_step_that_fails_undoes_every_step_before_it(
    failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError(f"{failing} failed")

    monkeypatch.setattr(Runtime, failing, fail)
    before = _threads()
    with pytest.raises(RuntimeError, match=failing):
        Runtime(_settings(f"sqlite:///{tmp_path / 'gate.db'}"))
    assert sorted(_threads()) == sorted(before)


def test_stopping_the_workers_leaves_the_decision_path_running(tmp_path: Path) -> None:
    runtime = Runtime(_settings(f"sqlite:///{tmp_path / 'gate.db'}"))
    try:
        runtime.stop_workers()
        alive = set(_threads())
        assert not alive & (STEPS["_start_workers"] | STEPS["_start_integrations"])
        assert runtime.ready()
    finally:
        runtime.close()
