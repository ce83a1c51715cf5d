"""Which person a Slack user is: `sluicegate principals link NAME --slack-user UXXXX`.

A Slack user acts as exactly one person and a person as at most one Slack user. Linking is a
change of who may approve, so it is recorded on the audit chain like a new key."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select, update

from service.audit.chain import record
from service.auth.principals import Principal, PrincipalKind, acting_as
from service.auth.roles import Role
from service.auth.tables import PRINCIPALS
from service.store.database import writing
from service.store.utc import utc_now

# Slack user ids: U… (or W… on Enterprise Grid), upper-case letters and digits.
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def link_slack_user(database: Engine, name: str, slack_user: str | None) -> None:
    """Link the person `name` to `slack_user`, or unlink them (None). ValueError when the
    name is unknown or an agent's, the id is not a Slack user id, or another person has it."""
    if slack_user is not None and not SLACK_USER.match(slack_user):
        raise ValueError(f"{slack_user!r} is not a Slack user id (U… or W…)")
    now = utc_now()
    with writing(database) as connection:
        person = connection.execute(
            select(PRINCIPALS.c.id, PRINCIPALS.c.kind, PRINCIPALS.c.slack_user_id).where(
                PRINCIPALS.c.name == name
            )
        ).first()
        if person is None:
            raise ValueError(f"no principal is named {name!r}")
        if person.kind != PrincipalKind.PERSON.value:
            raise ValueError(f"{name!r} is an agent; only people approve in Slack")
        holder = connection.execute(
            select(PRINCIPALS.c.name).where(
                PRINCIPALS.c.slack_user_id == slack_user, PRINCIPALS.c.id != person.id
            )
        ).scalar()
        if slack_user is not None and holder is not None:
            raise ValueError(f"{slack_user} is already linked to {holder!r}")
        connection.execute(
            update(PRINCIPALS).where(PRINCIPALS.c.id == person.id).values(slack_user_id=slack_user)
        )
        body = {
            "principal": {"id": person.id, "name": name},
            "slack_user": slack_user,
            "was": person.slack_user_id,
        }
        record(connection, "slack_user_linked", now=now, body=body)


def slack_reviewer(database: Engine, slack_user: str) -> Principal | None:
    """The person this Slack user acts as, through a live reviewer key; None when the user is
    not linked or the person holds no live reviewer key (revoking it ends Slack too)."""
    with database.connect() as connection:
        name = connection.execute(
            select(PRINCIPALS.c.name).where(PRINCIPALS.c.slack_user_id == slack_user)
        ).scalar()
    if name is None:
        return None
    try:
        return acting_as(database, name, Role.REVIEWER)
    except LookupError:
        return None
