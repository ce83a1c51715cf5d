"""The tables candidates/ owns: shadow runs, and what their candidate answered.

Other domains read them through the typed handles at the end of this module, or through
candidates/'s functions; only candidates/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class ShadowRunRow(SQLModel, table=True):
    """A candidate rule pack evaluated beside the active one on live traffic (`rules shadow`),
    from `started_at` until `stopped_at`; gateways load it from `path`."""

    __tablename__ = "shadow_runs"

    id: str = Field(primary_key=True)
    path: str
    revision: str
    started_by: str
    started_at: datetime = Field(sa_column=utc_column())
    stopped_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ShadowResultRow(SQLModel, table=True):
    """What the shadow pack would have answered to one live decision, beside what was."""

    __tablename__ = "shadow_results"

    decision_id: str = Field(primary_key=True)
    run_id: str = Field(index=True)
    action_type: str
    active_outcome: str  # the rules' outcome recorded (budgets left out)
    shadow_outcome: str
    agree: bool
    recorded_at: datetime = Field(sa_column=utc_column())


SHADOW_RUNS = table_of(ShadowRunRow)
SHADOW_RESULTS = table_of(ShadowResultRow)
