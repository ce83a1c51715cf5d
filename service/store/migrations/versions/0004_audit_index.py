"""Indexed columns copied out of audit events, and the rules each decision event names.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS: dict[str, type[sa.String] | type[sa.Integer]] = {
    "agent_id": sa.String,
    "action_type": sa.String,
    "outcome": sa.String,
    "risk_tier": sa.Integer,
    "policy_revision": sa.String,
    "work_item_id": sa.String,
    "queue": sa.String,
}


def upgrade() -> None:
    """Add the columns (with their indexes) and the rule index table."""
    with op.batch_alter_table("audit_events") as table:
        for name, kind in COLUMNS.items():
            table.add_column(sa.Column(name, kind(), nullable=True))
    for name in COLUMNS:
        op.create_index(f"ix_audit_events_{name}", "audit_events", [name])
    op.create_index("ix_audit_events_recorded_at", "audit_events", ["recorded_at"])
    op.create_index("ix_audit_events_kind", "audit_events", ["kind"])
    op.create_table(
        "audit_event_rules",
        sa.Column("rule", sa.String(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("audit_event_rules")
    op.drop_index("ix_audit_events_kind", "audit_events")
    op.drop_index("ix_audit_events_recorded_at", "audit_events")
    for name in COLUMNS:
        op.drop_index(f"ix_audit_events_{name}", "audit_events")
    with op.batch_alter_table("audit_events") as table:
        for name in COLUMNS:
            table.drop_column(name)
