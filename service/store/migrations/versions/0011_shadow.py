"""Shadow mode: candidate packs evaluated beside the active one, and their answers.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create shadow_runs and shadow_results."""
    op.create_table(
        "shadow_runs",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("revision", sa.String(), nullable=False),
        sa.Column("started_by", sa.String(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("stopped_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "shadow_results",
        sa.Column("decision_id", sa.String(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("action_type", sa.String(), nullable=False),
        sa.Column("active_outcome", sa.String(), nullable=False),
        sa.Column("shadow_outcome", sa.String(), nullable=False),
        sa.Column("agree", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_shadow_results_run_id", "shadow_results", ["run_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_table("shadow_results")
    op.drop_table("shadow_runs")
