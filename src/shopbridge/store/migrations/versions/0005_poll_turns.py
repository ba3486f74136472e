"""Poll turns: polling runs outside Temporal, one worker at a time per connection under a lease."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll_turns",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("next_round_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_token", sa.String(36), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resume_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_poll_turns")),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_poll_turns_connection_id_connections"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("poll_turns")
