"""Seeding known-answer reviews (canaries) among real ones.

For each queue the pack gives a rate (`canaries.yaml`: one canary per `every` real blocking
reviews), a worker in every gateway seeds the queue's next canary once that many real
reviews have opened there since its last one. A canary is decided by the gate like any
proposal, as the agent the authors name, so its review has the same shape, ids, fields,
reasons and time box as a real one; it is seeded beside real work, so its timing is real
work's too. The only marks are the gate's own: the review row's `canary_id`, and the
`canary` event that records it on the chain (with the right verdict and why), which only
auditors and authors read.

Under the chain's lock, the count is read and the canary written in one transaction, so
several gateways never seed the same one twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import uuid_utils
from sqlalchemy import Connection, Engine, func, select

from policy.context import Agent
from policy.gate import Gate
from policy.outcome import Outcome
from policy.pack_data import Canary
from policy.proposal import Proposal
from service.audit.chain import append, lock_chain
from service.audit.event import decision_event, digest
from service.auth.principals import acting_as, principal_named
from service.auth.roles import Role
from service.periodic import Periodic
from service.reviews.models import ReviewKind
from service.reviews.tables import REVIEW_TASKS
from service.reviews.tasks import open_tasks, opening_task
from service.store.database import writing
from service.store.utc import utc_now

log = logging.getLogger(__name__)
KIND = "canary"


class CanarySeeder:
    """Seeds each queue's canaries at the pack's rate; a worker the runtime starts."""

    def __init__(
        self,
        database: Engine,
        gate: Gate,
        *,
        tick_seconds: float,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._gate = gate
        self._clock = clock
        self._worker = Periodic("canary-seeder", self.seed_due, seconds=tick_seconds)

    def start(self) -> None:
        """Start seeding."""
        self._worker.start()

    def stop(self) -> None:
        """Stop seeding."""
        self._worker.stop()

    def seed_due(self) -> int:
        """Seed every queue whose rate says a canary is due; returns how many were seeded."""
        canaries = self._gate.pack.data.canaries
        seeded = 0
        for queue, rate in canaries.queues.items():
            mine = [canary for canary in canaries.canaries if canary.queue == queue]
            if mine:
                seeded += self._seed(queue, rate.every, mine)
        return seeded

    def _seed(self, queue: str, every: int, canaries: list[Canary]) -> int:
        with writing(self._database) as connection:
            lock_chain(connection)  # read the count and write the canary as one step
            if _real_since_last_canary(connection, queue) < every:
                return 0
            canary = canaries[_canaries_in(connection, queue) % len(canaries)]
            agent = _agent(self._database, canary.agent)
            if agent is None:
                log.warning("canary %s: no agent named %r; not seeded", canary.id, canary.agent)
                return 0
            return self._write(connection, canary, agent)

    def _write(self, connection: Connection, canary: Canary, agent: Agent) -> int:
        proposal = Proposal.model_validate(canary.proposal)
        decision = self._gate.decide(proposal, agent)
        routed = decision.review.queue if decision.review is not None else None
        if decision.outcome is not Outcome.ROUTE_TO_HUMAN or routed != canary.queue:
            log.warning(
                "canary %s: the rules answer %s (%s), not a review in %s; not seeded",
                canary.id,
                decision.outcome.value,
                routed,
                canary.queue,
            )
            return 0
        now = self._clock()
        document = proposal.document()
        request_digest = digest(document)
        event = decision_event(
            event_id=str(uuid_utils.uuid7()),
            proposal=proposal,
            agent=agent,
            decision=decision,
            recorded_at=now,
            mask_paths=self._gate.pack.data.masking,
            document=document,
            proposal_digest=request_digest,
        )
        event = event | {
            "kind": KIND,
            "canary": {"id": canary.id, "expect": canary.expect, "why": canary.why},
        }
        append(connection, [event])
        task = opening_task(
            decision,
            agent_id=agent.id,
            proposal_digest=request_digest,
            action_type=proposal.action.type,
            pack=self._gate.pack,
            now=now,
        )
        assert task is not None
        open_tasks(connection, [task | {"canary_id": canary.id}])
        log.info("canary %s seeded in %s", canary.id, canary.queue)
        return 1


def _agent(database: Engine, name: str) -> Agent | None:
    """The agent a canary names, with the scopes of its live key (every scope without one)."""
    try:
        return acting_as(database, name, Role.AGENT).as_agent()
    except LookupError:
        pass
    try:
        return Agent(id=principal_named(database, name), name=name, scopes=("*",))
    except LookupError:
        return None


def _real_since_last_canary(connection: Connection, queue: str) -> int:
    """Real blocking reviews opened in the queue since its last canary (or ever)."""
    in_queue = (REVIEW_TASKS.c.queue == queue, REVIEW_TASKS.c.kind == ReviewKind.BLOCKING.value)
    last: Any = connection.execute(
        select(func.max(REVIEW_TASKS.c.created_at)).where(
            *in_queue, REVIEW_TASKS.c.canary_id.is_not(None)
        )
    ).scalar()
    query = select(func.count()).where(*in_queue, REVIEW_TASKS.c.canary_id.is_(None))
    if last is not None:
        query = query.where(REVIEW_TASKS.c.created_at > last)
    return int(connection.execute(query).scalar_one())


def _canaries_in(connection: Connection, queue: str) -> int:
    return int(
        connection.execute(
            select(func.count()).where(
                REVIEW_TASKS.c.queue == queue, REVIEW_TASKS.c.canary_id.is_not(None)
            )
        ).scalar_one()
    )
