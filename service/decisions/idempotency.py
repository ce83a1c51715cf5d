"""Finding the decision an idempotency key already produced."""

from __future__ import annotations

from sqlalchemy import Connection, select

from service.store.tables import DecisionRow

_decisions = DecisionRow.__table__  # type: ignore[attr-defined]


def earlier_answer(connection: Connection, principal_id: str, key: str) -> tuple[str, str] | None:
    """(request digest, decision body) recorded for this principal's key, if any."""
    row = connection.execute(
        select(_decisions.c.request_digest, _decisions.c.body).where(
            _decisions.c.principal_id == principal_id,
            _decisions.c.idempotency_key == key,
        )
    ).first()
    return (str(row[0]), str(row[1])) if row else None
