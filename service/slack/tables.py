"""The table slack/ owns: the Slack message of each review in its queue's channel.

Other domains read them through the typed handles at the end of this module, or through
slack/'s functions; only slack/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class SlackMessageRow(SQLModel, table=True):
    """The message a review got in its queue's Slack channel, and where its updates stand.

    `state`: `post` (due to be posted), `open` (posted; updated when the review resolves),
    `closed` (updated to say how it resolved), `failed` (gave up; `last_error` says why).
    A worker takes a row by moving `next_attempt_at` forward with a compare-and-set, so only
    one gateway process posts or updates each message."""

    __tablename__ = "slack_messages"
    __table_args__ = (Index("ix_slack_messages_state", "state", "next_attempt_at"),)

    review_id: str = Field(primary_key=True)
    channel: str
    ts: str | None = None  # Slack's id of the message, once posted
    state: str
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=utc_column())
    last_error: str | None = None
    created_at: datetime = Field(sa_column=utc_column())


SLACK_MESSAGES = table_of(SlackMessageRow)
