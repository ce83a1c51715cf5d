"""The table held_calls/ owns: tool calls the MCP proxy holds for review.

Other domains read it through held_calls/'s functions; only held_calls/ writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class HeldCallRow(SQLModel, table=True):
    """One held tool call: what to forward once its review approves it, and what came back.

    `state`: held (its review is open, or resolved and not yet acted on), forwarding (a proxy
    replica holds the lease to forward it, `forwarding_until`), completed (the result is the
    upstream's, or the refusal the agent reads), cancelled (the agent withdrew it). Every
    change is a compare-and-set on `version`."""

    __tablename__ = "held_calls"

    id: str = Field(primary_key=True)  # the MCP task id
    decision_id: str = Field(unique=True)
    agent_id: str = Field(index=True)  # the principal whose call it is; only it may read it
    upstream: str
    tool: str
    arguments: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The same upstream, tool and arguments: how a proxy finds the call when it is made again.
    call_digest: str = Field(index=True)
    proposal: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    forwarding_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int = 0
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


HELD_CALLS = table_of(HeldCallRow)
