"""Impact: what a candidate rule pack would have answered to the decisions already recorded.

Each `decision` event of the window is replayed twice, on the embedded engine: once with the
active pack, once with the candidate. What is replayed is what the log keeps: the proposal
as recorded (masked by the pack) and the scopes of the agent's key.

- **Fidelity.** The active pack must give every replayable decision its recorded outcome and
  queue. The report always shows how many did; one that does not is listed.
- **Unreplayable** decisions are counted and listed, never guessed. That covers an event
  recorded before the log kept the key's scopes, and a masked proposal that no longer
  validates. It also covers a masked value the candidate reads: the candidate is asked again
  with a probe value put back where the pack erased one, and if its answer changes, the
  recorded proposal cannot say what it would have done.
- **Budgets** are the store's, not the rules': the outcomes compared are those of the rules
  (the most severe verdict not of a budget). How often each of the candidate's budgets
  would have been hit is simulated in order over the window's replayed decisions, counting
  as the store does: an action later reported failed or rolled back gives its share back
  only once its permit has expired (`permit_ttl` after it was decided), never earlier.
- **Queues.** Per queue: reviews per day added or removed, against the reviews it resolved
  per day in the same window. `sla_holds` takes that resolution rate as the queue's capacity:
  the SLA holds when what it would receive stays within it (or when it receives less).
"""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine

from policy.budgets import spending
from policy.context import Agent
from policy.gate import Gate
from policy.masking import pointer_tokens
from policy.pack_data import BudgetScope
from policy.proposal import Proposal
from policy.rule_pack import RulePack
from service.audit.pack_activation import record_impact
from service.audit.query import recorded_decisions
from service.auth.principals import owners
from service.candidates.answers import RulesAnswer, replay
from service.decisions.lookup import given_back
from service.engines import replay_gate
from service.reviews.tasks import resolved_per_queue
from service.settings import Settings

MAX_LISTED = 20
PROBE = "sluicegate-masked-value-probe"
DEFAULT_WINDOW = timedelta(days=7)
_SHORTEST_WINDOW_DAYS = 1 / 24


class Fidelity(BaseModel):
    """How many replayable decisions the active pack answered as recorded."""

    replayed: int
    same: int
    differing: list[str] = []  # the first decision ids that did not match


class QueueImpact(BaseModel):
    """One queue's load under the candidate against what it resolves."""

    extra_per_day: float
    routed_per_day: float
    resolved_per_day: float
    sla_holds: bool


class Changed(BaseModel):
    """One decision the candidate would answer differently."""

    model_config = ConfigDict(populate_by_name=True)

    decision_id: str
    from_: str = Field(alias="from")
    to: str
    action_type: str
    rules: list[str]


class Unreplayable(BaseModel):
    """A decision the log cannot replay, and why."""

    decision_id: str
    why: str


class ImpactReport(BaseModel):
    """What changing the active pack for the candidate would have done in the window."""

    since: datetime
    until: datetime
    active_revision: str
    candidate_revision: str
    replayed: int
    changed: int
    unreplayable: int
    fidelity: Fidelity
    transitions: dict[str, int]
    rules: dict[str, int]
    action_types: dict[str, int]
    queues: dict[str, QueueImpact]
    budgets: dict[str, int]
    examples: list[Changed]
    unreplayable_examples: list[Unreplayable]

    def summary(self) -> dict[str, Any]:
        """What the log keeps of a report (`rules_impact_computed`), and `rules activate`
        checks: everything but the example lists."""
        return self.model_dump(mode="json", exclude={"examples", "unreplayable_examples"})


@dataclass(frozen=True)
class _Replay:
    decision_id: str
    at: datetime
    agent: Agent
    proposal: Proposal
    recorded: RulesAnswer
    probed: Proposal | None  # the proposal with probes where values were erased
    sample_rate: float | None  # the post-hoc rate the decision recorded (adaptive ones move)


def impact_of(
    database: Engine,
    settings: Settings,
    *,
    active: RulePack,
    candidate: RulePack,
    since: datetime | None,
    until: datetime,
) -> ImpactReport:
    """The impact of changing `active` for `candidate` over [since, until) (since defaults to
    `DEFAULT_WINDOW` before until), both on the embedded engine; its summary is recorded on
    the chain (`rules_impact_computed`), where `rules activate` looks for it. The API and
    `sluicegate rules impact` both ask here."""
    active_gate, candidate_gate = replay_gate(settings, active), replay_gate(settings, candidate)
    try:
        report = replay_impact(
            database,
            active_gate,
            candidate_gate,
            since=since or until - DEFAULT_WINDOW,
            until=until,
            permit_ttl=timedelta(seconds=settings.permit_ttl_seconds),
        )
    finally:
        active_gate.close()
        candidate_gate.close()
    record_impact(database, report.summary())
    return report


def replay_impact(
    database: Engine,
    active: Gate,
    candidate: Gate,
    *,
    since: datetime,
    until: datetime,
    permit_ttl: timedelta = timedelta(seconds=300),
) -> ImpactReport:
    """Replay the window's recorded decisions with both packs and report the difference."""
    with database.connect() as connection:
        owner_keys = owners(connection)
        resolved = resolved_per_queue(connection, since=since, until=until)
        reported = given_back(connection, since=since, until=until)
    tally = _Tally(_BudgetSimulation(candidate, owner_keys, reported, permit_ttl))
    cache: dict[str, tuple[RulesAnswer, RulesAnswer, RulesAnswer | None]] = {}
    for item in _recorded(database, since=since, until=until):
        if isinstance(item, Unreplayable):
            tally.cannot(item)
            continue
        key = _cache_key(item)
        if key not in cache:
            cache[key] = _answers(active, candidate, item)
        tally.add(item, *cache[key])
    days = max((until - since).total_seconds() / 86_400, _SHORTEST_WINDOW_DAYS)
    return ImpactReport(
        since=since,
        until=until,
        active_revision=active.pack.revision,
        candidate_revision=candidate.pack.revision,
        replayed=tally.fidelity.replayed,
        changed=sum(tally.transitions.values()),
        unreplayable=tally.unreplayable,
        fidelity=tally.fidelity,
        transitions=dict(tally.transitions),
        rules=dict(tally.rules.most_common()),
        action_types=dict(tally.action_types.most_common()),
        queues=tally.queues(resolved, days),
        budgets=tally.budgets.hits,
        examples=tally.examples,
        unreplayable_examples=tally.unreplayable_examples,
    )


class _Tally:
    """What the replay found so far."""

    def __init__(self, budgets: _BudgetSimulation) -> None:
        self.budgets = budgets
        self.fidelity = Fidelity(replayed=0, same=0)
        self.transitions: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.action_types: Counter[str] = Counter()
        self.routed: Counter[str] = Counter()
        self.extra: Counter[str] = Counter()
        self.examples: list[Changed] = []
        self.unreplayable = 0
        self.unreplayable_examples: list[Unreplayable] = []

    def cannot(self, item: Unreplayable) -> None:
        self.unreplayable += 1
        if len(self.unreplayable_examples) < MAX_LISTED:
            self.unreplayable_examples.append(item)

    def add(
        self,
        item: _Replay,
        on_active: RulesAnswer,
        on_candidate: RulesAnswer,
        probed: RulesAnswer | None,
    ) -> None:
        if probed is not None and not probed.same_as(on_candidate):
            why = "the candidate's answer depends on a value the pack masked"
            self.cannot(Unreplayable(decision_id=item.decision_id, why=why))
            return
        if item.recorded.queue:
            self.routed[item.recorded.queue] += 1
        self.fidelity.replayed += 1
        if on_active.same_as(item.recorded):
            self.fidelity.same += 1
        elif len(self.fidelity.differing) < MAX_LISTED:
            self.fidelity.differing.append(item.decision_id)
        self.budgets.add(item, on_candidate)
        if not on_candidate.same_as(item.recorded):
            self._changed(item, on_candidate)

    def _changed(self, item: _Replay, on_candidate: RulesAnswer) -> None:
        before, after = item.recorded.outcome.value, on_candidate.outcome.value
        self.transitions[f"{before}->{after}"] += 1
        behind = sorted({rule for rule, _ in item.recorded.verdicts ^ on_candidate.verdicts})
        self.rules.update(behind)
        self.action_types[item.proposal.action.type] += 1
        if item.recorded.queue:
            self.extra[item.recorded.queue] -= 1
        if on_candidate.queue:
            self.extra[on_candidate.queue] += 1
        if len(self.examples) < MAX_LISTED:
            self.examples.append(
                Changed(
                    decision_id=item.decision_id,
                    from_=before,
                    to=after,
                    action_type=item.proposal.action.type,
                    rules=behind,
                )
            )

    def queues(self, resolved: Counter[str], days: float) -> dict[str, QueueImpact]:
        found = {}
        for queue in sorted(set(self.routed) | set(self.extra) | set(resolved)):
            routed, extra = self.routed[queue] / days, self.extra[queue] / days
            capacity = resolved[queue] / days
            found[queue] = QueueImpact(
                extra_per_day=round(extra, 3),
                routed_per_day=round(routed, 3),
                resolved_per_day=round(capacity, 3),
                sla_holds=extra <= 0 or routed + extra <= capacity,
            )
        return found


def _answers(
    active: Gate, candidate: Gate, item: _Replay
) -> tuple[RulesAnswer, RulesAnswer, RulesAnswer | None]:
    rate = item.sample_rate
    on_active = replay(active, item.proposal, item.agent, rate)
    on_candidate = replay(candidate, item.proposal, item.agent, rate)
    probed = replay(candidate, item.probed, item.agent, rate) if item.probed else None
    return on_active, on_candidate, probed


def _cache_key(item: _Replay) -> str:
    """Two decisions with the same proposal (but their keys), scopes and masked values get
    the same answers."""
    document = item.proposal.document()
    document.pop("idempotency_key", None)
    probed = item.probed.document() if item.probed is not None else None
    if probed is not None:
        probed.pop("idempotency_key", None)
    key = [document, sorted(item.agent.scopes), probed, item.sample_rate]
    return json.dumps(key, sort_keys=True, default=str)


def _recorded(
    database: Engine, *, since: datetime, until: datetime
) -> Iterator[_Replay | Unreplayable]:
    for decision_id, recorded_at, event in recorded_decisions(database, since=since, until=until):
        yield _replay_of(decision_id, recorded_at, event)


def _replay_of(decision_id: str, at: datetime, event: dict[str, Any]) -> _Replay | Unreplayable:
    agent = event.get("agent", {})
    if "scopes" not in agent:
        why = "recorded before the log kept the key's scopes"
        return Unreplayable(decision_id=decision_id, why=why)
    try:
        proposal = Proposal.model_validate(event["proposal"])
    except ValidationError as error:
        where = ".".join(str(part) for part in error.errors()[0]["loc"])
        return Unreplayable(decision_id=decision_id, why=f"the masked proposal lacks {where}")
    probed = None
    if event.get("erased"):
        try:
            probed = Proposal.model_validate(_with_probes(event["proposal"], event["erased"]))
        except (ValidationError, ValueError):
            why = "a masked value cannot be probed"
            return Unreplayable(decision_id=decision_id, why=why)
    return _Replay(
        decision_id=decision_id,
        at=at,
        agent=Agent(id=agent["id"], name=agent["name"], scopes=tuple(agent["scopes"])),
        proposal=proposal,
        recorded=RulesAnswer.recorded(event["decision"]),
        probed=probed,
        sample_rate=(event["decision"].get("sample") or {}).get("rate"),
    )


def _with_probes(masked: dict[str, Any], erased: list[str]) -> dict[str, Any]:
    """The masked proposal with a probe value where each erased value was."""
    document = copy.deepcopy(masked)
    for pointer in erased:
        tokens = pointer_tokens(pointer)
        node: Any = document
        for token in tokens[:-1]:
            node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
        last = tokens[-1]
        if isinstance(node, list):
            node[int(last)] = PROBE
        else:
            node[last] = PROBE
    return document


class _BudgetSimulation:
    """The candidate's budgets over the replayed decisions, in order: how often each is hit.
    A share is (when it was spent, how much, when it came back: None while it counts)."""

    def __init__(
        self,
        candidate: Gate,
        owners: dict[str, str],
        reported: dict[str, datetime],
        permit_ttl: timedelta,
    ) -> None:
        self._data = candidate.pack.data
        self._owners = owners
        self._reported = reported  # decisions reported failed or rolled back, and when
        self._permit_ttl = permit_ttl
        self._spent: dict[tuple[str, str, str], deque[tuple[datetime, float, datetime | None]]]
        self._spent = defaultdict(deque)
        self.hits: dict[str, int] = dict.fromkeys(self._data.budgets, 0)

    def add(self, item: _Replay, answer: RulesAnswer) -> None:
        keys = []
        for charge in spending(self._data, item.proposal, answer.outcome):
            whose = (
                item.agent.id
                if charge.per is BudgetScope.AGENT
                else self._owners.get(item.agent.id, item.agent.id)
            )
            key = (charge.budget, charge.unit, whose)
            spent = self._spent[key]
            while spent and spent[0][0] <= item.at - timedelta(seconds=charge.window_seconds):
                spent.popleft()
            counting = (a for _, a, back in spent if back is None or back > item.at)
            if charge.exceeds(sum(counting)):
                self.hits[charge.budget] += 1
                return
            keys.append((key, charge.amount))
        back = self._back_at(item)
        for key, amount in keys:
            self._spent[key].append((item.at, amount, back))

    def _back_at(self, item: _Replay) -> datetime | None:
        """When the store gave this action's share back: once it was reported failed or
        rolled back, and its permit had expired (`outcomes.give_back_at`)."""
        reported = self._reported.get(item.decision_id)
        return None if reported is None else max(reported, item.at + self._permit_ttl)
