"""Timestamps are stored as naive UTC and read back as aware UTC, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import Column, DateTime
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A `DateTime` that refuses naive values on the way in and attaches UTC on the way out."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    """A column for an aware UTC timestamp (for `Field(sa_column=...)`)."""
    return Column(UtcDateTime(), nullable=nullable, index=index)


def as_utc(moment: datetime) -> datetime:
    """A moment in UTC; one given without a zone (a query parameter, a CLI option) is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# A datetime read from outside (query parameters, CLI options), made aware UTC on the way in.
UtcMoment = Annotated[datetime, AfterValidator(as_utc)]


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)
