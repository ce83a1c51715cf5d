"""Step definitions shared by the features: proposals by name, a gate or a running gateway."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from pytest_bdd import given, parsers, then, when
from sqlalchemy import Connection, text

from policy.context import Agent
from policy.decision import Decision
from policy.gate import Gate
from policy.proposal import Proposal
from policy.sampling import is_selected
from service.app import create_app
from service.auth.keys import create_key
from service.auth.roles import Role
from service.settings import Settings, bundled_rules
from tests.fixtures import AUDIT_KEY, UNHURRIED_BUDGET_MS, RegoBackend
from tests.store_access import refuse_audit_writes, store

EXAMPLES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "examples.yaml").read_text(encoding="utf-8")
)
SLOW_BUDGET_SECONDS = 0.05


def proposal_named(name: str, environment: str, **extra: Any) -> dict[str, Any]:
    """A named example proposal, placed in an environment."""
    body = yaml.safe_load(yaml.safe_dump(EXAMPLES[name]))  # a deep copy
    body["action"]["environment"] = environment
    return {**body, **extra}


class World:
    """What a scenario has built so far."""

    def __init__(self, tmp_path: Path, engine: RegoBackend, database_url: str) -> None:
        self.tmp_path = tmp_path
        self.database_url = database_url  # the store a running gateway uses
        self.backend = engine
        self.rules = bundled_rules()
        self.budget = UNHURRIED_BUDGET_MS / 1000
        self.agent = Agent(id="agent-1", name="feature-agent", scopes=("*",))
        self.decision: Decision | None = None
        self.client: TestClient | None = None
        self.settings: Settings | None = None
        self.headers: dict[str, str] = {}
        self.responses: list[Any] = []

    def pack_copy(self) -> Path:
        target = self.tmp_path / "rules"
        if not target.exists():
            shutil.copytree(self.rules, target, ignore=shutil.ignore_patterns("__pycache__"))
        self.rules = target
        return target

    def database(self) -> AbstractContextManager[Connection]:
        """A connection of its own to the gateway's store (committed on leaving)."""
        assert self.settings is not None
        return store(self.settings.database_url)


@pytest.fixture(autouse=True)
def _on_both_rego_engines_and_stores(rego_backend: RegoBackend, database_url: str) -> None:
    """Every scenario runs on embedded Rego and on a real OPA server, each on SQLite and on
    PostgreSQL (a feature's module narrows what does not apply to it)."""


@pytest.fixture
def world(tmp_path: Path, rego_backend: RegoBackend, database_url: str) -> Iterator[World]:
    state = World(tmp_path, rego_backend, database_url)
    yield state
    if state.client is not None:
        state.client.__exit__(None, None, None)


# -- the gate, in process -------------------------------------------------------------------


@given("an agent whose key allows every action type")
def every_action(world: World) -> None:
    world.agent = Agent(id="agent-1", name="feature-agent", scopes=("*",))


@given(parsers.parse('an agent whose key allows only "{pattern}"'))
def only_pattern(world: World, pattern: str) -> None:
    world.agent = Agent(id="agent-1", name="feature-agent", scopes=(pattern,))


def _add_python_rule(world: World, body: str) -> None:
    (world.pack_copy() / "python" / "extra.py").write_text(
        "import time\n\nfrom policy.rule_api import RuleInput, Verdict, rule\n\n\n"
        '@rule("feature.extra")\n'
        f"def extra(given: RuleInput) -> Verdict | None:\n    {body}\n"
    )


@given("a rule pack with a Python rule that raises")
def raising_rule(world: World) -> None:
    _add_python_rule(world, "raise RuntimeError('bug in a rule')")


@given("a rule pack with a Python rule that takes two seconds")
def slow_rule(world: World) -> None:
    _add_python_rule(world, "time.sleep(2)")
    world.budget = SLOW_BUDGET_SECONDS


@given("a rule pack where contradictory sources deny")
def contradictions_deny(world: World) -> None:
    data = world.pack_copy() / "data" / "fail_closed.yaml"
    data.write_text(
        data.read_text().replace(
            "contradictory_sources: route_to_human", "contradictory_sources: deny"
        )
    )


@when(parsers.parse("it proposes {example} in {environment}"))
def propose(world: World, gate: Gate, example: str, environment: str) -> None:
    proposal = Proposal.model_validate(proposal_named(example, environment))
    if world.rules == bundled_rules():
        world.decision = gate.decide(proposal, world.agent)
        return
    with world.backend.gate(world.rules, budget_seconds=world.budget) as own:
        world.decision = own.decide(proposal, world.agent)


def _decided(world: World) -> Decision:
    assert world.decision is not None
    return world.decision


@then(parsers.parse("the outcome is {outcome}"))
def outcome_is(world: World, outcome: str) -> None:
    assert _decided(world).outcome.value == outcome


@then(parsers.parse("the risk tier is {tier:d}"))
def tier_is(world: World, tier: int) -> None:
    assert _decided(world).risk_tier == tier


@then(parsers.parse("the review is in the {queue} queue, with {action} on timeout"))
def review_in(world: World, queue: str, action: str) -> None:
    review = _decided(world).review
    assert review is not None
    assert (review.queue, review.on_timeout.value) == (queue, action)


@then(parsers.parse("the reasons include {rule}"))
def reasons_include(world: World, rule: str) -> None:
    assert rule in {r.rule for r in _decided(world).reasons}


@then(parsers.parse("the decision fails closed because of {cause}"))
def fails_closed(world: World, cause: str) -> None:
    failure = _decided(world).fail_closed
    assert failure is not None
    assert failure.cause.value == cause


@then(parsers.parse("the sample rate is {rate:g}"))
def sample_rate_is(world: World, rate: float) -> None:
    sample = _decided(world).sample
    assert sample is not None
    assert sample.rate == rate


@then("deciding the same decision id again selects the same way")
def same_selection(world: World) -> None:
    decision = _decided(world)
    assert decision.sample is not None
    assert is_selected(decision.decision_id, decision.sample.rate) == decision.sample.selected


# -- the gateway, over HTTP -----------------------------------------------------------------


@given("a running gateway")
def running_gateway(world: World) -> None:
    world.settings = world.backend.settings(
        database_url=world.database_url, audit_signing_key=AUDIT_KEY
    )
    world.client = TestClient(create_app(world.settings))
    world.client.__enter__()


@given("an agent key allowing every action type")
def agent_key(world: World) -> None:
    assert world.client is not None
    runtime = world.client.app.state.runtime  # type: ignore[attr-defined]
    _, key = create_key(runtime.database, name="feature-agent", role=Role.AGENT, scopes=["*"])
    world.headers = {"Authorization": f"Bearer {key}"}


@given("the audit log refuses writes")
def refuse_writes(world: World) -> None:
    assert world.settings is not None
    refuse_audit_writes(world.settings.database_url)


def _ask(world: World, body: dict[str, Any]) -> None:
    assert world.client is not None
    world.responses.append(world.client.post("/v1/decisions", json=body, headers=world.headers))


@when(parsers.re(r"the agent asks about (?P<example>.+) in (?P<environment>\w+)$"))
def ask(world: World, example: str, environment: str) -> None:
    _ask(world, proposal_named(example, environment))


@when(
    parsers.re(
        r"the agent asks about (?P<example>.+) in (?P<environment>\w+) "
        r'with idempotency key "(?P<key>[^"]+)"'
    )
)
def ask_with_key(world: World, example: str, environment: str, key: str) -> None:
    _ask(world, proposal_named(example, environment, idempotency_key=key))


@when(
    parsers.re(
        r"the agent asks twice about (?P<example>.+) in (?P<environment>\w+) "
        r'with idempotency key "(?P<key>[^"]+)"'
    )
)
def ask_twice(world: World, example: str, environment: str, key: str) -> None:
    for _ in range(2):
        _ask(world, proposal_named(example, environment, idempotency_key=key))


@then(parsers.parse("the gateway answers {status:d} with outcome {outcome}"))
def answers_outcome(world: World, status: int, outcome: str) -> None:
    response = world.responses[-1]
    assert response.status_code == status
    assert response.json()["outcome"] == outcome


@then(parsers.parse("the gateway answers {status:d} with error {code}"))
def answers_error(world: World, status: int, code: str) -> None:
    response = world.responses[-1]
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


@then("the audit log holds that decision at the sequence number the answer gives")
def logged_at_seq(world: World) -> None:
    answer = world.responses[-1].json()
    with world.database() as db:
        row = db.execute(
            text("SELECT decision_id, hash FROM audit_events WHERE seq = :seq"),
            {"seq": answer["audit"]["seq"]},
        ).one()
    assert tuple(row) == (answer["decision_id"], answer["audit"]["hash"])


@then("both answers carry the same decision id")
def same_decision(world: World) -> None:
    first, second = (r.json()["decision_id"] for r in world.responses[-2:])
    assert first == second


@then(parsers.parse("the audit log holds {count} decision"))
def log_holds(world: World, count: str) -> None:
    wanted = 0 if count == "no" else int(count.replace("one", "1"))
    with world.database() as db:
        count_sql = text("SELECT count(*) FROM audit_events WHERE kind = 'decision'")
        assert db.execute(count_sql).scalar_one() == wanted
