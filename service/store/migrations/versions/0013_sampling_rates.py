"""Adaptive post-hoc sampling: the current effective rate per action type, environment and
tier (its history is on the audit chain).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create sampling_rates."""
    op.create_table(
        "sampling_rates",
        sa.Column("action_type", sa.String(), primary_key=True),
        sa.Column("environment", sa.String(), primary_key=True),
        sa.Column("risk_tier", sa.Integer(), primary_key=True),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("sampling_rates")
