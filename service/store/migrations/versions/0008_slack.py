"""Slack: a person's Slack user, and the message each review got in its queue's channel.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add principals.slack_user_id (unique) and the slack_messages table."""
    op.add_column("principals", sa.Column("slack_user_id", sa.String(), nullable=True))
    op.create_index("ix_principals_slack_user_id", "principals", ["slack_user_id"], unique=True)
    op.create_table(
        "slack_messages",
        sa.Column("review_id", sa.String(), primary_key=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("ts", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_slack_messages_state", "slack_messages", ["state", "next_attempt_at"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_slack_messages_state", table_name="slack_messages")
    op.drop_table("slack_messages")
    op.drop_index("ix_principals_slack_user_id", table_name="principals")
    with op.batch_alter_table("principals") as batch:
        batch.drop_column("slack_user_id")
