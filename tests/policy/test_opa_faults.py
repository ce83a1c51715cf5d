"""A real OPA process that is down, frozen, wrong or restarted: decisions fail closed, precisely,
and the gate recovers by itself when OPA is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from policy.context import Agent
from policy.decision import Decision
from policy.fail_closed import FailClosedCause
from policy.gate import Gate
from policy.opa_bundle import write_bundle_dir
from policy.outcome import Outcome
from policy.proposal import Environment, Proposal
from policy.rule_pack import load_rule_pack
from service.engines import build_gate
from service.settings import Settings
from tests.background import InBackground, all_results
from tests.fixtures import RULES
from tests.loopback import free_port
from tests.opa_sidecar import OpaProcess

AGENT = Agent(id="agent-1", name="fault-agent", scopes=("*",))
# A sandbox email draft: allowed when the rules decide, so a fault can never hide behind "deny".
DRAFT = Proposal.model_validate(
    {
        "action": {"type": "email.customer.draft", "environment": Environment.SANDBOX},
        "work_item": {"id": "T-1", "type": "ticket"},
    }
)
BUDGET_SECONDS = 0.2
# Far above the budget: a gate that waited on a frozen OPA would block for good, not this long.
NEVER_HANGS_SECONDS = 5.0


def _gate(rules: Path, sidecar_url: str, bundle: Path | None, **values: object) -> Gate:
    settings = Settings(
        rules=rules,
        rego_backend="opa",
        opa_url=sidecar_url,
        opa_bundle=str(bundle),
        decision_budget_ms=int(BUDGET_SECONDS * 1000),
        **values,  # type: ignore[arg-type]
    )
    return build_gate(settings, load_rule_pack(rules))


def _bundle(rules: Path, target: Path) -> Path:
    return write_bundle_dir(load_rule_pack(rules), target)


def _fails_closed(decision: Decision, cause: FailClosedCause) -> None:
    assert decision.outcome is Outcome.ROUTE_TO_HUMAN
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is cause, decision.fail_closed.detail
    assert decision.review is not None  # the action's owner queue, with its time box


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return _bundle(RULES, tmp_path / "bundle")


@pytest.fixture
def sidecar(bundle: Path) -> Iterator[OpaProcess]:
    with OpaProcess("--bundle", str(bundle)) as process:
        yield process


def test_the_draft_is_allowed_when_opa_answers(sidecar: OpaProcess, bundle: Path) -> None:
    gate = _gate(RULES, sidecar.url, bundle)
    assert gate.decide(DRAFT, AGENT).outcome is Outcome.ALLOW
    assert gate.healthy()
    gate.close()


def test_opa_down_fails_closed_as_unavailable(bundle: Path) -> None:
    gate = _gate(RULES, f"http://127.0.0.1:{free_port()}", bundle)
    _fails_closed(gate.decide(DRAFT, AGENT), FailClosedCause.ENGINE_UNAVAILABLE)
    assert not gate.healthy()
    gate.close()


def test_rule_data_can_make_an_unreachable_opa_deny(tmp_path: Path, pack_copy: Path) -> None:
    data = pack_copy / "data" / "fail_closed.yaml"
    data.write_text(
        data.read_text().replace("engine_unavailable: route_to_human", "engine_unavailable: deny")
    )
    gate = _gate(pack_copy, f"http://127.0.0.1:{free_port()}", tmp_path / "none")
    decision = gate.decide(DRAFT, AGENT)
    gate.close()
    assert decision.outcome is Outcome.DENY
    assert decision.fail_closed is not None
    assert decision.fail_closed.cause is FailClosedCause.ENGINE_UNAVAILABLE


def test_a_frozen_opa_times_out_within_the_budget_and_recovers(
    sidecar: OpaProcess, bundle: Path
) -> None:
    gate = _gate(RULES, sidecar.url, bundle)
    sidecar.pause()
    started = time.monotonic()
    decision = gate.decide(DRAFT, AGENT)
    elapsed = time.monotonic() - started
    sidecar.resume()
    _fails_closed(decision, FailClosedCause.ENGINE_TIMEOUT)
    assert elapsed < NEVER_HANGS_SECONDS
    assert _eventually_allowed(gate)
    gate.close()


@pytest.mark.parametrize(
    ("entry_point", "cause"),
    [
        (
            "verdicts := data.sluicegate.rules.autonomy.verdicts if input.no_such_field",
            FailClosedCause.ENGINE_UNDEFINED,
        ),
        ('verdicts := {"allow": true}', FailClosedCause.ENGINE_MALFORMED_RESULT),
    ],
    ids=["undefined", "malformed"],
)
def test_an_answer_without_verdicts_fails_closed(
    entry_point: str, cause: FailClosedCause, tmp_path: Path, pack_copy: Path
) -> None:
    (pack_copy / "rego" / "verdicts.rego").write_text(
        f"package sluicegate\n\nimport rego.v1\n\n{entry_point}\n"
    )
    bundle = _bundle(pack_copy, tmp_path / "bundle")
    with OpaProcess("--bundle", str(bundle)) as process:
        gate = _gate(pack_copy, process.url, bundle)
        _fails_closed(gate.decide(DRAFT, AGENT), cause)
        gate.close()


def test_opa_on_another_revision_fails_closed(tmp_path: Path, pack_copy: Path) -> None:
    limits = pack_copy / "data" / "limits.yaml"
    limits.write_text(limits.read_text() + "\n# an edit: another revision\n")
    other = _bundle(pack_copy, tmp_path / "other")
    with OpaProcess("--bundle", str(other)) as process:
        gate = _gate(RULES, process.url, other)  # the gateway serves the default pack
        decision = gate.decide(DRAFT, AGENT)
        gate.close()
    _fails_closed(decision, FailClosedCause.POLICY_REVISION_MISMATCH)
    assert load_rule_pack(RULES).revision in decision.fail_closed.detail  # type: ignore[union-attr]


def _eventually_allowed(gate: Gate, tries: int = 200) -> bool:
    for _ in range(tries):
        if gate.decide(DRAFT, AGENT).outcome is Outcome.ALLOW:
            return True
        time.sleep(0.05)
    return False


def _decide_until(gate: Gate, stop: threading.Event, seen: list[tuple[float, Decision]]) -> None:
    """Decide until told to stop; each decision with when it was asked for."""
    while not stop.is_set():
        asked = time.monotonic()
        seen.append((asked, gate.decide(DRAFT, AGENT)))


@pytest.mark.parametrize("mode", ["bundle", "push"])
def test_opa_stopped_mid_run_never_allows_and_the_gate_recovers(
    mode: str, tmp_path: Path, bundle: Path
) -> None:
    args = ("--bundle", str(bundle)) if mode == "bundle" else ()
    process = OpaProcess(*args).start()
    gate = _gate(RULES, process.url, bundle, opa_mode=mode)
    decided: list[tuple[float, Decision]] = []
    stop = threading.Event()
    workers: list[InBackground[None]] = []
    try:
        workers = [
            InBackground(lambda: _decide_until(gate, stop, decided), name="a deciding thread")
            for _ in range(4)
        ]
        time.sleep(0.3)
        process.stop()
        gone = time.monotonic()
        time.sleep(0.5)
        stop.set()
        all_results(workers, timeout=30)
        # Asked for once OPA was gone (not when appended: a thread answered before the stop may
        # append after others' later answers on a loaded machine).
        during = [decision for asked, decision in decided if asked > gone]
        before = [decision for asked, decision in decided if asked <= gone]
        assert during, "no decision was made while OPA was down"
        assert all(d.outcome is not Outcome.ALLOW for d in during)
        causes = {d.fail_closed.cause for d in during if d.fail_closed}
        # Requests caught by OPA's shutdown time out; once it is gone, connections are refused.
        assert FailClosedCause.ENGINE_UNAVAILABLE in causes
        assert causes <= {FailClosedCause.ENGINE_UNAVAILABLE, FailClosedCause.ENGINE_TIMEOUT}
        assert any(d.outcome is Outcome.ALLOW for d in before)

        process.start()  # same port; a restarted OPA holds nothing until it loads or is pushed
        assert _eventually_allowed(gate)
    finally:
        stop.set()
        gate.close()
        process.stop()
