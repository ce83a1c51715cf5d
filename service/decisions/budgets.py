"""Counting budgets in the store, in the transaction that records the decision.

The decision writer (decisions/writer.py) holds the chain's lock (an advisory lock on
PostgreSQL; SQLite's single writer) while it calls `settle`, so what was spent is read and
added to by one gateway process at a time: concurrent requests cannot overshoot a budget,
on one store or several gateways. A decision that would pass a budget is recorded as the
variant its claim gives (`Decider.over_budget`: the budget's verdict added), never as the
allow that was asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import uuid_utils
from sqlalchemy import Connection, func, insert, or_, select, update

from policy.budgets import SPENDING, Charge
from policy.pack_data import BudgetScope
from service.auth.principals import owner_of
from service.decisions.record import DecisionRecord
from service.decisions.tables import BUDGET_ENTRIES


def settle(
    connection: Connection, records: Sequence[DecisionRecord], now: datetime
) -> list[DecisionRecord]:
    """The records to write: each spending one that fits its budgets is counted; one that
    would pass a budget is replaced by its over-budget variant (not counted)."""
    settled: list[DecisionRecord] = []
    for record in records:
        claim = record.budget
        if claim is None or record.decision.outcome not in SPENDING:
            settled.append(record)
            continue
        owner_key = _owner_key(connection, record.principal_id)
        over = None
        for charge in claim.charges:
            # Entries counted earlier in this batch are in the transaction already: seen here.
            spent = _spent(
                connection, charge, _scope_key(charge, record.principal_id, owner_key), now
            )
            if charge.exceeds(spent):
                over = claim.over(charge, spent)
                break
        if over is not None:
            settled.append(over)
            continue
        count(
            connection,
            claim.charges,
            record.principal_id,
            record.decision.decision_id,
            now,
            owner_key=owner_key,
        )
        settled.append(record)
    return settled


def count(
    connection: Connection,
    charges: Iterable[Charge],
    principal_id: str,
    decision_id: str,
    now: datetime,
    *,
    owner_key: str | None = None,
) -> None:
    """Add what an action spends (when it was decided, or when its approval was used)."""
    rows = [
        {
            "id": str(uuid_utils.uuid7()),
            "budget": charge.budget,
            "unit": charge.unit,
            "principal_id": principal_id,
            "owner_key": owner_key or _owner_key(connection, principal_id),
            "amount": charge.amount,
            "decision_id": decision_id,
            "counted_at": now,
        }
        for charge in charges
        if not math.isinf(charge.amount)
    ]
    if rows:
        connection.execute(insert(BUDGET_ENTRIES), rows)


def release(connection: Connection, decision_id: str, at: datetime) -> None:
    """A failed or rolled-back action gives back what it spent, from `at` on (when its
    permit can no longer be used: decisions/outcomes.give_back_at)."""
    connection.execute(
        update(BUDGET_ENTRIES)
        .where(BUDGET_ENTRIES.c.decision_id == decision_id, BUDGET_ENTRIES.c.released_at.is_(None))
        .values(released_at=at)
    )


def _owner_key(connection: Connection, principal_id: str) -> str:
    """Whose budgets per owner an agent's spending counts against: its owner's, or its own."""
    return owner_of(connection, principal_id) or principal_id


def _scope_key(charge: Charge, principal_id: str, owner_key: str) -> str:
    return principal_id if charge.per is BudgetScope.AGENT else owner_key


def _spent(connection: Connection, charge: Charge, key: str, now: datetime) -> float:
    column = (
        BUDGET_ENTRIES.c.principal_id
        if charge.per is BudgetScope.AGENT
        else BUDGET_ENTRIES.c.owner_key
    )
    since = now - timedelta(seconds=charge.window_seconds)
    total = connection.execute(
        select(func.coalesce(func.sum(BUDGET_ENTRIES.c.amount), 0.0)).where(
            BUDGET_ENTRIES.c.budget == charge.budget,
            BUDGET_ENTRIES.c.unit == charge.unit,
            column == key,
            BUDGET_ENTRIES.c.counted_at > since,
            or_(BUDGET_ENTRIES.c.released_at.is_(None), BUDGET_ENTRIES.c.released_at > now),
        )
    ).scalar()
    return float(total or 0.0)
