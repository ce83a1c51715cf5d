"""Permits are never stored: a decision keeps its permit's claims and key id, and a replay
signs them again. Tokens stored in decision bodies by earlier releases are moved out.

Revision ID: 0012
Revises: 0011
"""

import base64
import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# A body stored with its permit ends with it: `Decision.permit` is the last field.
_STORED_TOKEN = re.compile(r'"permit":"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+"}$')
_BATCH = 1000


def _part(segment: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def upgrade() -> None:
    """Add decisions.permit_claims and permit_kid; move stored tokens into them."""
    op.add_column("decisions", sa.Column("permit_claims", sa.JSON(), nullable=True))
    op.add_column("decisions", sa.Column("permit_kid", sa.String(), nullable=True))
    connection = op.get_bind()
    decisions = sa.table(
        "decisions",
        sa.column("decision_id", sa.String()),
        sa.column("body", sa.String()),
        sa.column("permit_claims", sa.JSON()),
        sa.column("permit_kid", sa.String()),
    )
    after = ""
    while True:
        rows = connection.execute(
            sa.select(decisions.c.decision_id, decisions.c.body)
            .where(decisions.c.decision_id > after, decisions.c.body.like('%"permit":"%'))
            .order_by(decisions.c.decision_id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for decision_id, body in rows:
            found = _STORED_TOKEN.search(body)
            if found is None:
                continue
            header, claims = _part(found.group(1)), _part(found.group(2))
            connection.execute(
                sa.update(decisions)
                .where(decisions.c.decision_id == decision_id)
                .values(
                    body=body[: found.start()] + '"permit":null}',
                    permit_claims=claims,
                    permit_kid=header["kid"],
                )
            )
        after = rows[-1].decision_id


def downgrade() -> None:
    """Drop the columns (the tokens are not put back: replays then answer without one)."""
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("permit_kid")
        batch.drop_column("permit_claims")
