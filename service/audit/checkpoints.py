"""Signed checkpoints of the audit chain's head: the value, its signed bytes, and reading them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select

from service.audit.event import canonical
from service.audit.tables import AUDIT_CHECKPOINTS


class Checkpoint(BaseModel):
    """A signed statement: at `seq`, the chain's hash was `hash`."""

    seq: int
    hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        """What the signature covers: the RFC 8785 JSON of everything but the signature."""
        return signed_document(self.seq, self.hash, self.signed_at, self.key_id)


def signed_document(seq: int, chain_hash: str, signed_at: datetime, key: str) -> bytes:
    """The canonical bytes a checkpoint's signature covers."""
    document = {"seq": seq, "hash": chain_hash, "signed_at": signed_at.isoformat(), "key_id": key}
    return canonical(document)


def list_checkpoints(database: Engine) -> list[Checkpoint]:
    """Every checkpoint in seq order."""
    with database.connect() as connection:
        return stored_checkpoints(connection)


def stored_checkpoints(
    connection: Connection, *, since: datetime | None = None
) -> list[Checkpoint]:
    """Every checkpoint in seq order (or those signed since a time)."""
    query = select(AUDIT_CHECKPOINTS).order_by(AUDIT_CHECKPOINTS.c.seq)
    if since is not None:
        query = query.where(AUDIT_CHECKPOINTS.c.signed_at >= since)
    rows: list[Any] = list(connection.execute(query).all())
    return [Checkpoint.model_validate(row, from_attributes=True) for row in rows]
