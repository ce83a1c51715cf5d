"""Canaries: a review may be a known-answer check (review_tasks.canary_id names which).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add review_tasks.canary_id."""
    op.add_column("review_tasks", sa.Column("canary_id", sa.String(), nullable=True))
    op.create_index("ix_review_tasks_canary_id", "review_tasks", ["canary_id"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_review_tasks_canary_id", table_name="review_tasks")
    with op.batch_alter_table("review_tasks") as batch:
        batch.drop_column("canary_id")
