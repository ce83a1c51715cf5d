"""What the commands share: settings that fail with a readable message, and the store opened
for one command. Heavy modules are imported inside the functions, so `--help` stays fast."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from pydantic import ValidationError
    from sqlalchemy import Engine

    from service.settings import Settings

RulesOption = Annotated[Path | None, typer.Option("--rules", help="Rule pack directory.")]


def problems(exc: ValidationError, *, source: str) -> str:
    """A validation error as lines a person reads: where, and what is wrong there."""
    lines = [f"{source} is not valid:"]
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(the whole value)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


def load_settings(rules_dir: Path | None = None) -> Settings:
    """The gateway's settings (from SLUICEGATE_* variables); exit 2 naming what is wrong."""
    from pydantic import ValidationError

    from service.settings import Settings

    try:
        return Settings(rules=rules_dir) if rules_dir else Settings()
    except ValidationError as exc:
        typer.echo(problems(exc, source="the SLUICEGATE_* settings"), err=True)
        raise typer.Exit(2) from exc


@contextmanager
def opened_store(settings: Settings | None = None, *, migrated: bool = True) -> Iterator[Engine]:
    """The configured database, migrated to the newest schema, closed afterwards."""
    from service.store.database import database_engine, migrate

    database = database_engine((settings or load_settings()).database_url)
    try:
        if migrated:
            migrate(database)
        yield database
    finally:
        database.dispose()
