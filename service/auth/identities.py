"""Who a principal is at the organisation's identity provider: the link from an issuer's
subject to one principal (`sluicegate principals link NAME --oauth-subject SUB`).

Nobody is created from a token or a sign-in: an unknown subject is refused. The roles stay
ours: an agent's OAuth identity carries its action scopes here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import uuid_utils
from sqlalchemy import Engine, delete, insert, select

from service.audit.chain import record
from service.auth.principals import PrincipalKind
from service.auth.tables import PRINCIPAL_IDENTITIES, PRINCIPALS
from service.store.database import writing
from service.store.utc import utc_now


class IdentityKind(StrEnum):
    """An agent's access tokens (OAuth), or a person's sign-in (OpenID Connect)."""

    OAUTH = "oauth"
    OIDC = "oidc"


@dataclass(frozen=True)
class LinkedPrincipal:
    """The principal a subject is linked to."""

    id: str
    name: str
    kind: PrincipalKind
    scopes: tuple[str, ...]


def link_identity(
    database: Engine,
    name: str,
    *,
    kind: IdentityKind,
    issuer: str,
    subject: str,
    scopes: list[str] | None = None,
) -> None:
    """Link `issuer`'s `subject` to the principal `name` (replacing that subject's older
    link); recorded on the audit chain. ValueError when the name is unknown, or the kind of
    principal does not fit (tokens act as agents, sign-ins as people)."""
    wanted = PrincipalKind.AGENT if kind is IdentityKind.OAUTH else PrincipalKind.PERSON
    now = utc_now()
    with writing(database) as connection:
        principal = connection.execute(
            select(PRINCIPALS.c.id, PRINCIPALS.c.kind).where(PRINCIPALS.c.name == name)
        ).first()
        if principal is None:
            raise ValueError(f"no principal is named {name!r}")
        if principal.kind != wanted.value:
            raise ValueError(
                f"{name!r} is not an {wanted.value}: {kind.value} links {wanted.value}s"
            )
        connection.execute(
            delete(PRINCIPAL_IDENTITIES).where(
                PRINCIPAL_IDENTITIES.c.kind == kind.value,
                PRINCIPAL_IDENTITIES.c.issuer == issuer,
                PRINCIPAL_IDENTITIES.c.subject == subject,
            )
        )
        connection.execute(
            insert(PRINCIPAL_IDENTITIES).values(
                id=str(uuid_utils.uuid7()),
                principal_id=principal.id,
                kind=kind.value,
                issuer=issuer,
                subject=subject,
                scopes=list(scopes or []),
                created_at=now,
            )
        )
        body = {
            "principal": {"id": principal.id, "name": name},
            "identity": {"kind": kind.value, "issuer": issuer, "subject": subject},
            "scopes": list(scopes or []),
        }
        record(connection, "identity_linked", now=now, body=body)


def linked_principal(
    database: Engine, kind: IdentityKind, issuer: str, subject: str
) -> LinkedPrincipal | None:
    """The principal `issuer`'s `subject` is linked to, or None."""
    with database.connect() as connection:
        row = connection.execute(
            select(
                PRINCIPALS.c.id,
                PRINCIPALS.c.name,
                PRINCIPALS.c.kind,
                PRINCIPAL_IDENTITIES.c.scopes,
            )
            .join(PRINCIPALS, PRINCIPALS.c.id == PRINCIPAL_IDENTITIES.c.principal_id)
            .where(
                PRINCIPAL_IDENTITIES.c.kind == kind.value,
                PRINCIPAL_IDENTITIES.c.issuer == issuer,
                PRINCIPAL_IDENTITIES.c.subject == subject,
            )
        ).first()
    if row is None:
        return None
    return LinkedPrincipal(row.id, row.name, PrincipalKind(row.kind), tuple(row.scopes))
