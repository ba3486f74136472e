"""Write fencing: the ledger row's claim token, writes in doubt, strays; creation claims."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_transfers") as table:
        table.add_column(sa.Column("claim_token", sa.String(36), nullable=True))
        table.add_column(sa.Column("write_started_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("settle_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("in_doubt", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("stray_documents", sa.Text(), nullable=True))
    op.create_table(
        "creation_claims",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("canonical_key", sa.String(255), nullable=False),
        sa.Column("claim_token", sa.String(36), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("write_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settle_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "connection_id", "system", "entity", "canonical_key", name=op.f("pk_creation_claims")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_creation_claims_connection_id_connections"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("creation_claims")
    with op.batch_alter_table("order_transfers") as table:
        for column in ("stray_documents", "in_doubt", "settle_until", "write_started_at", "claim_token"):
            table.drop_column(column)
