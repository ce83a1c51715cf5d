"""Timestamps are stored as naive UTC and read back as aware UTC, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
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


_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def rfc3339(value: Any) -> Any:
    """A time given as text must be RFC 3339 with its offset (`2026-11-29T10:00:00Z`):
    not a number (`0.5` is not a time), not a date alone, not a time without a zone."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("a time is RFC 3339 with its offset, e.g. 2026-11-29T10:00:00Z")
    return datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)


# A datetime read from outside (query parameters, filters), RFC 3339, made aware UTC.
UtcMoment = Annotated[datetime, BeforeValidator(rfc3339), AfterValidator(as_utc)]


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)
