"""Reading a recorded decision with the action's status now, and waiting for its review."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from policy.decision import Decision
from policy.rule_pack import RulePack
from service.auth.principals import Principal
from service.decisions.readers import readable_row
from service.decisions.status import GIVES_BACK, DecisionStatus, decision_status
from service.decisions.tables import DECISIONS
from service.errors import NotFound
from service.permits.signer import StoredPermit
from service.reviews.tasks import as_review, blocking_task_of
from service.reviews.waiting import ResolutionWatch
from service.store.utc import utc_now

# Whether the caller may see this stored decision row.
Allowed = Callable[[Connection, Any], bool]


def proposer_of(connection: Connection, decision_id: str) -> str | None:
    """The id of the agent that proposed the decision; None when there is no such decision."""
    proposer: str | None = connection.execute(
        select(DECISIONS.c.principal_id).where(DECISIONS.c.decision_id == decision_id)
    ).scalar()
    return proposer


def given_back(connection: Connection, *, since: datetime, until: datetime) -> dict[str, datetime]:
    """The decisions made in [since, until) whose action was reported failed or rolled back
    (what gives a budget share back), with when it was reported."""
    rows = connection.execute(
        select(DECISIONS.c.decision_id, DECISIONS.c.lifecycle_at).where(
            DECISIONS.c.created_at >= since,
            DECISIONS.c.created_at < until,
            DECISIONS.c.lifecycle_status.in_([status.value for status in GIVES_BACK]),
        )
    ).all()
    return {str(row.decision_id): row.lifecycle_at for row in rows}


def stored_permit(row: Any) -> StoredPermit | None:
    """What a stored decision row keeps of its permit, if it issued one."""
    return StoredPermit(row.permit_claims, row.permit_kid) if row.permit_kid else None


def status_and_row(
    connection: Connection, decision_id: str, allowed: Allowed
) -> tuple[DecisionStatus, Any]:
    """The decision with the action's status now, and its stored row, if `allowed`;
    `NotFound` otherwise (the same answer as for a decision that does not exist)."""
    row = connection.execute(
        select(DECISIONS).where(DECISIONS.c.decision_id == decision_id)
    ).first()
    if row is None or not allowed(connection, row):
        raise NotFound(f"no decision {decision_id}")
    task = blocking_task_of(connection, decision_id)
    review = None if task is None else as_review(task, utc_now())
    decision = Decision.model_validate_json(row.body)
    return decision_status(decision, review, row.lifecycle_status), row


def read_status(
    database: Engine, pack: RulePack, decision_id: str, principal: Principal
) -> DecisionStatus:
    """A decision with the action's status now, if this principal may read it."""
    with database.connect() as connection:
        return status_and_row(
            connection, decision_id, lambda c, row: readable_row(c, pack, principal, row)
        )[0]


class DecisionWatch:
    """Answers "where does this action stand?", at once or by long poll.

    A resolution in this process wakes a waiting poll at once (`ResolutionWatch`); one on
    another replica is seen by re-reading the store every `recheck_seconds`."""

    def __init__(
        self,
        database: Engine,
        pack: RulePack,
        watch: ResolutionWatch,
        *,
        recheck_seconds: float,
        max_wait_seconds: float = 60.0,
    ) -> None:
        self._database = database
        self._max_wait = max_wait_seconds
        self._pack = pack
        self._watch = watch
        self._recheck = recheck_seconds

    async def status(
        self, decision_id: str, principal: Principal, *, wait: float = 0
    ) -> DecisionStatus:
        """The decision's status; with `wait`, held until its review resolves or `wait`
        seconds pass."""
        deadline = time.monotonic() + min(wait, self._max_wait)
        while True:
            status = await asyncio.to_thread(
                read_status, self._database, self._pack, decision_id, principal
            )
            remaining = deadline - time.monotonic()
            if status.review is None or status.review.state.resolved or remaining <= 0:
                return status
            await self._watch.wait(decision_id, min(remaining, self._recheck))
