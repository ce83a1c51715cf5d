"""Held calls: MCP tool calls a proxy holds for review, shared by every proxy replica.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create held_calls."""
    op.create_table(
        "held_calls",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("decision_id", sa.String(), nullable=False, unique=True),
        sa.Column("agent_id", sa.String(), nullable=False),
        sa.Column("upstream", sa.String(), nullable=False),
        sa.Column("tool", sa.String(), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("call_digest", sa.String(), nullable=False),
        sa.Column("proposal", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("forwarding_until", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_held_calls_agent_id", "held_calls", ["agent_id"])
    op.create_index("ix_held_calls_call_digest", "held_calls", ["call_digest"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_held_calls_call_digest", table_name="held_calls")
    op.drop_index("ix_held_calls_agent_id", table_name="held_calls")
    op.drop_table("held_calls")
