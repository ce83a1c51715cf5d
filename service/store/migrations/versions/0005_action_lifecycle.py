"""What the agent reported after acting: the action's lifecycle status and its artifact.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the lifecycle columns to decisions."""
    with op.batch_alter_table("decisions") as table:
        table.add_column(sa.Column("lifecycle_status", sa.String(), nullable=True))
        table.add_column(sa.Column("lifecycle_at", sa.DateTime(), nullable=True))
        table.add_column(sa.Column("artifact", sa.JSON(), nullable=True))
        table.add_column(
            sa.Column("lifecycle_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("decisions") as table:
        for column in ("lifecycle_version", "artifact", "lifecycle_at", "lifecycle_status"):
            table.drop_column(column)
