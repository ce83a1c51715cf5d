"""Principal identities: an agent's OAuth subject, a person's OpenID subject, per issuer.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create principal_identities."""
    op.create_table(
        "principal_identities",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("principal_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kind", "issuer", "subject"),
    )
    op.create_index(
        "ix_principal_identities_principal_id", "principal_identities", ["principal_id"]
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_principal_identities_principal_id", table_name="principal_identities")
    op.drop_table("principal_identities")
