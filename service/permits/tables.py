"""The table permits/ owns: the keys that sign permits.

Other domains read them through the typed handles at the end of this module, or through
permits/'s functions; only permits/ writes them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.store.table import table_of
from service.store.utc import utc_column


class PermitKeyRow(SQLModel, table=True):
    """A key that signs permits. The newest signs; an older one stays published in the JWKS
    until the last permit it signed has expired."""

    __tablename__ = "permit_keys"

    kid: str = Field(primary_key=True)
    private_pem: str  # Ed25519, PKCS#8 PEM; never logged, never served
    created_at: datetime = Field(sa_column=utc_column())
    retired_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


PERMIT_KEYS = table_of(PermitKeyRow)
