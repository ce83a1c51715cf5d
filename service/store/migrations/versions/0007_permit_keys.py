"""The keys that sign permits.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the permit key table."""
    op.create_table(
        "permit_keys",
        sa.Column("kid", sa.String(), primary_key=True),
        sa.Column("private_pem", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("permit_keys")
