"""Holding a tool call for review, forwarding it once, and what came of it.

The MCP proxy (service/mcp/) holds a call the gate routed to a person here, with the caller's
own agent key, so only that agent reads or changes it. Whichever proxy replica is asked next
takes a short lease (`forwarding`) before it uses the approval and forwards the call, and
stores what the upstream answered: another replica asked meanwhile waits for the result
instead of forwarding again (and the gate's single-use approval refuses a second use anyway).
Each change is a compare-and-set on `version`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, insert, select, update

from service.auth.principals import Principal
from service.decisions.status import DecisionStatus
from service.errors import HeldCallBusy, HeldCallClosed, NotFound
from service.held_calls.identity import call_digest
from service.held_calls.tables import HELD_CALLS
from service.reviews.desk import ReviewDesk
from service.reviews.tasks import OPEN, blocking_task_of
from service.store.database import writing
from service.store.utc import utc_now

# How long a replica may take to use the approval and forward before another may try.
FORWARDING_LEASE = timedelta(seconds=60)
_NAME = Field(min_length=1, max_length=200)


class HeldCallState(StrEnum):
    """Where a held call stands (its review's progress is in `status`)."""

    HELD = "held"
    FORWARDING = "forwarding"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class NewHeldCall(BaseModel):
    """A call the gate routed to a person, to forward once it is approved."""

    model_config = ConfigDict(extra="forbid")

    decision_id: str = Field(min_length=1, max_length=64)
    upstream: str = _NAME
    tool: str = _NAME
    arguments: dict[str, Any]
    # The proposal exactly as decided (idempotency key included): `proceed` needs it.
    proposal: dict[str, Any]


class CallResult(BaseModel):
    """What the agent reads: the upstream's tool result, or the refusal."""

    model_config = ConfigDict(extra="forbid")

    result: dict[str, Any]


class HeldCall(BaseModel):
    """A held call with its decision's status now."""

    id: str
    decision_id: str
    upstream: str
    tool: str
    arguments: dict[str, Any]
    proposal: dict[str, Any]
    state: HeldCallState
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    status: DecisionStatus


# Reads the decision's status for the agent (decisions/lookup.py `read_status`, bound).
StatusReader = Callable[[str, Principal], DecisionStatus]


class HeldCalls:
    """Every change to a held call goes through here."""

    def __init__(
        self,
        database: Engine,
        desk: ReviewDesk,
        status_of: StatusReader,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._desk = desk
        self._status_of = status_of
        self._clock = clock

    def hold(self, agent: Principal, call: NewHeldCall) -> tuple[HeldCall, bool]:
        """Hold the call of the agent's routed decision; asked again for the same decision,
        the call first held (and False: nothing new was held)."""
        now = self._clock()
        with writing(self._database) as connection:
            review = blocking_task_of(connection, call.decision_id)
            if review is None or review.agent_id != agent.id or review.canary_id is not None:
                raise NotFound(f"no review for decision {call.decision_id}")
            held = _row_of_decision(connection, call.decision_id)
            if held is None:
                connection.execute(
                    insert(HELD_CALLS).values(
                        id=str(uuid_utils.uuid7()),
                        agent_id=agent.id,
                        state=HeldCallState.HELD.value,
                        version=0,
                        created_at=now,
                        updated_at=now,
                        call_digest=call_digest(call.upstream, call.tool, call.arguments),
                        **call.model_dump(),
                    )
                )
            row = _row_of_decision(connection, call.decision_id)
        return self._view(row, agent), held is None

    def pending(self, agent: Principal, digest_of_call: str) -> list[HeldCall]:
        """The agent's calls with this digest that are still held or being forwarded (a call
        made again while its review is open finds the first), newest first."""
        open_states = (HeldCallState.HELD.value, HeldCallState.FORWARDING.value)
        with self._database.connect() as connection:
            rows = connection.execute(
                select(HELD_CALLS)
                .where(
                    HELD_CALLS.c.agent_id == agent.id,
                    HELD_CALLS.c.call_digest == digest_of_call,
                    HELD_CALLS.c.state.in_(open_states),
                )
                .order_by(HELD_CALLS.c.created_at.desc())
                .limit(10)
            ).all()
        return [self._view(row, agent) for row in rows]

    def get(self, agent: Principal, call_id: str) -> HeldCall:
        """The agent's held call, with its decision's status now."""
        with self._database.connect() as connection:
            return self._view(_own_row(connection, call_id, agent), agent)

    def start_forwarding(self, agent: Principal, call_id: str) -> HeldCall:
        """Take the lease to forward the call: once held, or after a lease ran out."""

        def step(row: Any, now: datetime) -> dict[str, Any]:
            lapsed = row.forwarding_until is not None and row.forwarding_until <= now
            if row.state == HeldCallState.FORWARDING.value and not lapsed:
                raise HeldCallBusy()
            if row.state not in (HeldCallState.HELD.value, HeldCallState.FORWARDING.value):
                raise HeldCallClosed()
            return {
                "state": HeldCallState.FORWARDING.value,
                "forwarding_until": now + FORWARDING_LEASE,
            }

        return self._change(agent, call_id, step)

    def complete(self, agent: Principal, call_id: str, outcome: CallResult) -> HeldCall:
        """Store what the agent reads (the upstream's result, or the refusal); final."""

        def step(row: Any, now: datetime) -> dict[str, Any]:
            if row.state not in (HeldCallState.HELD.value, HeldCallState.FORWARDING.value):
                raise HeldCallClosed()
            return {
                "state": HeldCallState.COMPLETED.value,
                "result": outcome.result,
                "forwarding_until": None,
            }

        return self._change(agent, call_id, step)

    def cancel(self, agent: Principal, call_id: str) -> HeldCall:
        """The agent no longer wants the call: an open review is withdrawn (recorded); an
        approval not yet used stays unused. Refused once a replica forwards or forwarded it."""
        with self._database.connect() as connection:
            row = _own_row(connection, call_id, agent)
            review = blocking_task_of(connection, row.decision_id)
        if row.state != HeldCallState.HELD.value:
            raise HeldCallClosed()
        if review is not None and review.state == OPEN:
            self._desk.withdraw(row.decision_id, agent)

        def step(row: Any, now: datetime) -> dict[str, Any]:
            if row.state != HeldCallState.HELD.value:
                raise HeldCallClosed()
            return {"state": HeldCallState.CANCELLED.value}

        return self._change(agent, call_id, step)

    def _change(
        self,
        agent: Principal,
        call_id: str,
        step: Callable[[Any, datetime], dict[str, Any]],
    ) -> HeldCall:
        now = self._clock()
        with writing(self._database) as connection:
            row = _own_row(connection, call_id, agent)
            changes = step(row, now)
            changed = connection.execute(
                update(HELD_CALLS)
                .where(HELD_CALLS.c.id == call_id, HELD_CALLS.c.version == row.version)
                .values(**changes, version=row.version + 1, updated_at=now)
            ).rowcount
            if changed != 1:
                raise HeldCallBusy()
            row = _own_row(connection, call_id, agent)
        return self._view(row, agent)

    def _view(self, row: Any, agent: Principal) -> HeldCall:
        return HeldCall(
            id=row.id,
            decision_id=row.decision_id,
            upstream=row.upstream,
            tool=row.tool,
            arguments=row.arguments,
            proposal=row.proposal,
            state=HeldCallState(row.state),
            result=row.result,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status=self._status_of(row.decision_id, agent),
        )


def _row_of_decision(connection: Connection, decision_id: str) -> Any:
    return connection.execute(
        select(HELD_CALLS).where(HELD_CALLS.c.decision_id == decision_id)
    ).first()


def _own_row(connection: Connection, call_id: str, agent: Principal) -> Any:
    """The row, if it is this agent's; anyone else learns nothing of it (404)."""
    row = connection.execute(select(HELD_CALLS).where(HELD_CALLS.c.id == call_id)).first()
    if row is None or row.agent_id != agent.id:
        raise NotFound(f"no held call {call_id}")
    return row
