"""Initial schema: tenants, connections, bindings, cursors, the order ledger and events."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("shop_system", sa.String(50), nullable=False),
        sa.Column("erp_system", sa.String(50), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_connections_tenant_id_tenants")
        ),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
        sa.CheckConstraint("status IN ('ok', 'config_error')", name=op.f("ck_connections_status")),
    )
    op.create_index(op.f("ix_connections_tenant_id"), "connections", ["tenant_id"])
    op.create_table(
        "bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("canonical_key", sa.String(255), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bindings")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_bindings_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "connection_id",
            "system",
            "entity",
            "external_id",
            name=op.f("uq_bindings_connection_id_system_entity_external_id"),
        ),
        sa.UniqueConstraint(
            "connection_id",
            "system",
            "entity",
            "canonical_key",
            name=op.f("uq_bindings_connection_id_system_entity_canonical_key"),
        ),
    )
    op.create_table(
        "cursors",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "name", name=op.f("pk_cursors")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_cursors_connection_id_connections"),
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "order_transfers",
        sa.Column("transfer_id", sa.String(255), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("shop", sa.String(100), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
        sa.Column("order_reference", sa.String(100), nullable=False),
        sa.Column("shop_status", sa.String(100), nullable=False),
        sa.Column("customer_email", sa.String(320), nullable=True),
        sa.Column("total_gross", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("document_kind", sa.String(50), nullable=True),
        sa.Column("document_number", sa.String(100), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(20), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("transferred_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_order_transfers")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_order_transfers_connection_id_connections"),
        ),
        sa.UniqueConstraint(
            "connection_id",
            "shop",
            "order_id",
            name=op.f("uq_order_transfers_connection_id_shop_order_id"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'in_progress', 'transferred', 'parked')",
            name=op.f("ck_order_transfers_state"),
        ),
        sa.CheckConstraint(
            "error_kind IS NULL OR error_kind IN ('transient', 'config', 'data')",
            name=op.f("ck_order_transfers_error_kind"),
        ),
    )
    op.create_index(
        op.f("ix_order_transfers_connection_id_state_created_at"),
        "order_transfers",
        ["connection_id", "state", "created_at"],
    )
    op.create_index(op.f("ix_order_transfers_created_at"), "order_transfers", ["created_at"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("transfer_id", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_events_connection_id_connections"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(op.f("ix_events_connection_id_id"), "events", ["connection_id", "id"])
    op.create_index(op.f("ix_events_transfer_id"), "events", ["transfer_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("order_transfers")
    op.drop_table("cursors")
    op.drop_table("bindings")
    op.drop_table("connections")
    op.drop_table("tenants")
