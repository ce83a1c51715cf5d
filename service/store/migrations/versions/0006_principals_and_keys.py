"""Principals hold keys: a person or an agent is one principal, whatever keys they hold.

Before, each key was its own principal, so a person with two keys was two people to four
eyes. Keys move to `api_keys`; the keys that shared a name become one principal, whose id is
the id of the earliest of them, and rows that named a later key now name that principal.

Revision ID: 0006
Revises: 0005
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Columns that hold a principal's id, by table.
_REFERENCES = {
    "decisions": ("principal_id",),
    "review_tasks": ("agent_id", "claimed_by", "resolved_by"),
    "webhooks": ("agent_id",),
}


def upgrade() -> None:
    """Split keys out of principals, merging the keys that share a name."""
    bind = op.get_bind()
    old = bind.execute(sa.text("SELECT * FROM principals ORDER BY created_at, id")).mappings().all()
    canonical: dict[str, Any] = {}
    for row in old:
        canonical.setdefault(row["name"], row)
    merged = {row["id"]: canonical[row["name"]]["id"] for row in old}

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("principal_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_api_keys_principal_id", "api_keys", ["principal_id"])
    keys = sa.table(
        "api_keys",
        *(sa.column(c) for c in ("id", "principal_id", "role", "key_hash", "created_at")),
        sa.column("scopes", sa.JSON()),
        sa.column("revoked_at"),
    )
    if old:
        op.bulk_insert(
            keys,
            [
                {
                    "id": row["key_id"],
                    "principal_id": merged[row["id"]],
                    "role": row["role"],
                    "scopes": _scopes(row["scopes"]),
                    "key_hash": row["key_hash"],
                    "created_at": row["created_at"],
                    "revoked_at": row["revoked_at"],
                }
                for row in old
            ],
        )
    for table, columns in _REFERENCES.items():
        for column in columns:
            for was, now in merged.items():
                if was != now:
                    named = sa.table(table, sa.column(column))
                    bind.execute(
                        sa.update(named).where(named.c[column] == was).values({column: now})
                    )

    op.create_table(
        "principals_merged",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("owner_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    merged_table = sa.table(
        "principals_merged",
        *(sa.column(c) for c in ("id", "name", "kind", "owner_id", "created_at")),
    )
    if canonical:
        op.bulk_insert(
            merged_table,
            [
                {
                    "id": row["id"],
                    "name": name,
                    "kind": "agent" if row["role"] == "agent" else "person",
                    "owner_id": merged.get(row["owner_id"], row["owner_id"]),
                    "created_at": row["created_at"],
                }
                for name, row in canonical.items()
            ],
        )
    op.drop_table("principals")
    op.rename_table("principals_merged", "principals")
    # A review page session now belongs to the key signed in with, so revoking the key ends
    # it; sessions from before cannot say which key that was, and end here.
    bind.execute(sa.text("DELETE FROM ui_sessions"))
    with op.batch_alter_table("ui_sessions") as sessions:
        sessions.drop_column("principal_id")
        sessions.add_column(sa.Column("key_id", sa.String(), nullable=False))


def _scopes(value: Any) -> Any:
    # Read through plain SQL, a JSON column may come back as its text.
    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    """One principal per key again (merged principals stay merged)."""
    bind = op.get_bind()
    rows = (
        bind.execute(
            sa.text(
                "SELECT k.id AS key_id, k.role, k.scopes, k.key_hash, k.created_at, k.revoked_at,"
                " p.id, p.name, p.owner_id FROM api_keys k JOIN principals p"
                " ON p.id = k.principal_id ORDER BY k.created_at"
            )
        )
        .mappings()
        .all()
    )
    bind.execute(sa.text("DELETE FROM ui_sessions"))
    with op.batch_alter_table("ui_sessions") as sessions:
        sessions.drop_column("key_id")
        sessions.add_column(sa.Column("principal_id", sa.String(), nullable=False))
    op.drop_table("principals")
    op.create_table(
        "principals",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("key_id", sa.String(), nullable=False),
        sa.Column("key_hash", sa.String(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("owner_id", sa.String(), nullable=True),
    )
    op.create_index("ix_principals_key_id", "principals", ["key_id"], unique=True)
    seen: set[str] = set()
    table = sa.table(
        "principals",
        *(sa.column(c) for c in ("id", "name", "role", "key_id", "key_hash", "owner_id")),
        sa.column("scopes", sa.JSON()),
        sa.column("created_at"),
        sa.column("revoked_at"),
    )
    restored = []
    for row in rows:
        # The earliest key keeps the principal's id; later keys get their key id as theirs.
        principal_id = row["id"] if row["id"] not in seen else f"key-{row['key_id']}"
        seen.add(row["id"])
        restored.append({**row, "id": principal_id, "scopes": _scopes(row["scopes"])})
    if restored:
        op.bulk_insert(table, restored)
    op.drop_table("api_keys")
