"""Budgets: what each action that was let happen spent of each budget.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create budget_entries."""
    op.create_table(
        "budget_entries",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("budget", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("principal_id", sa.String(), nullable=False),
        sa.Column("owner_key", sa.String(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("decision_id", sa.String(), nullable=False),
        sa.Column("counted_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
    )
    op.create_index(
        "ix_budget_entries_agent", "budget_entries", ["budget", "principal_id", "counted_at"]
    )
    op.create_index(
        "ix_budget_entries_owner", "budget_entries", ["budget", "owner_key", "counted_at"]
    )
    op.create_index("ix_budget_entries_decision_id", "budget_entries", ["decision_id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_table("budget_entries")
