"""Incidents and rework: a cause on rejections and post-hoc findings, and the agent's own
compute time from its outcome report.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add review_tasks.cause and decisions.agent_duration_ms."""
    op.add_column("review_tasks", sa.Column("cause", sa.String(), nullable=True))
    op.add_column("decisions", sa.Column("agent_duration_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("agent_duration_ms")
    with op.batch_alter_table("review_tasks") as batch:
        batch.drop_column("cause")
