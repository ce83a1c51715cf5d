"""The table sampling/ owns: the current effective rate of each adaptive post-hoc rate.

Other domains read them through the typed handles at the end of this module, or through
sampling/'s functions; only sampling/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class SamplingRateRow(SQLModel, table=True):
    """The effective post-hoc rate of one action type at one tier in one environment, where
    the author made that rate adaptive, with the evidence it came from. Its history is on the
    audit chain (`sampling_rate_changed`)."""

    __tablename__ = "sampling_rates"

    action_type: str = Field(primary_key=True)
    environment: str = Field(primary_key=True)
    risk_tier: int = Field(primary_key=True)
    rate: float
    reviewed: int  # post-hoc verdicts in the window
    violations: int  # of them, "should not have happened"
    changed_at: datetime = Field(sa_column=utc_column())


SAMPLING_RATES = table_of(SamplingRateRow)
