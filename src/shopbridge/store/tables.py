"""Declarative SQLAlchemy models of every table ShopBridge keeps; migrations mirror this file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Fixed constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CONNECTION_STATUSES = ("ok", "config_error")
TRANSFER_STATES = ("pending", "in_progress", "transferred", "parked")
ERROR_KINDS = ("transient", "config", "data")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL condition restricting a text column to a fixed set of values."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamp that only accepts aware datetimes and always reads back as aware UTC.

    SQLite keeps no offset, so values are normalised to UTC before they are written and
    tagged as UTC when read; PostgreSQL returns them in the session time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"the store keeps aware datetimes only, got naive {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    # Every model here maps a plain Table, so say so for insert/update statements built on it.
    __table__: ClassVar[Table]
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]


class ConnectionRow(Base):
    __tablename__ = "connections"
    __table_args__ = (CheckConstraint(_one_of("status", CONNECTION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    shop_system: Mapped[str] = mapped_column(String(50))
    erp_system: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]]
    secrets: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BindingRow(Base):
    __tablename__ = "bindings"
    __table_args__ = (
        UniqueConstraint("connection_id", "system", "entity", "external_id"),
        UniqueConstraint("connection_id", "system", "entity", "canonical_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(255))
    canonical_key: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime]


class CursorRow(Base):
    __tablename__ = "cursors"
    __table_args__ = (PrimaryKeyConstraint("connection_id", "name"),)

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrderTransferRow(Base):
    """The ledger: one row per shop order, keyed by the deterministic transfer id."""

    __tablename__ = "order_transfers"
    __table_args__ = (
        UniqueConstraint("connection_id", "shop", "order_id"),
        CheckConstraint(_one_of("state", TRANSFER_STATES), name="state"),
        CheckConstraint(
            f"error_kind IS NULL OR {_one_of('error_kind', ERROR_KINDS)}", name="error_kind"
        ),
        Index(None, "connection_id", "state", "created_at"),
        Index(None, "created_at"),
    )

    transfer_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    shop: Mapped[str] = mapped_column(String(100))
    order_id: Mapped[str] = mapped_column(String(100))
    order_reference: Mapped[str] = mapped_column(String(100))
    shop_status: Mapped[str] = mapped_column(String(100))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    total_gross: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(20))
    document_kind: Mapped[str | None] = mapped_column(String(50))
    document_number: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(20))
    lease_until: Mapped[datetime | None]
    order_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    transferred_at: Mapped[datetime | None]
    # The fence: the token of the attempt holding the row; its writes are recorded only while
    # the row still carries it.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    # Set while an ERP write is under way or its outcome is unknown: no attempt writes again
    # before `settle_until`, and not before looking the reference up once more.
    write_started_at: Mapped[datetime | None]
    settle_until: Mapped[datetime | None]
    # Some write's outcome was unknown at some point: check for stray documents after the transfer.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    stray_documents: Mapped[str | None] = mapped_column(Text)


class CreationClaimRow(Base):
    """A claim to create one ERP entity (a new buyer's customer) once, across every worker."""

    __tablename__ = "creation_claims"
    __table_args__ = (PrimaryKeyConstraint("connection_id", "system", "entity", "canonical_key"),)

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    canonical_key: Mapped[str] = mapped_column(String(255))
    claim_token: Mapped[str] = mapped_column(String(36))
    lease_until: Mapped[datetime]
    write_started_at: Mapped[datetime | None]
    settle_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class PollTurnRow(Base):
    """Whose turn it is to poll a connection's shop, and when the next round is due."""

    __tablename__ = "poll_turns"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), primary_key=True)
    next_round_at: Mapped[datetime]
    holder_token: Mapped[str | None] = mapped_column(String(36))
    lease_until: Mapped[datetime | None]
    # Where a round cut short by its bound continues (no overlap window); None: the cursor's.
    resume_from: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index(None, "connection_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL")
    )
    transfer_id: Mapped[str | None] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    """An operator's API token; only its SHA-256 is kept, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


AGENT_JOB_STATES = ("queued", "leased", "done", "failed")


class AgentTokenRow(Base):
    """The hashed token an on-premises agent presents for one connection, and when it was last heard."""

    __tablename__ = "agent_tokens"

    connection: Mapped[str] = mapped_column(String(200), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    agent_info: Mapped[dict[str, Any]]


class AgentJobRow(Base):
    """A document waiting for, leased to, or finished by a connection's agent; one per reference."""

    __tablename__ = "agent_jobs"
    __table_args__ = (
        UniqueConstraint("connection", "reference"),
        CheckConstraint(_one_of("state", AGENT_JOB_STATES), name="state"),
        Index(None, "connection", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]]
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentExportRow(Base):
    """The newest export file of each kind an agent sent (orders, customers, products, stock)."""

    __tablename__ = "agent_exports"
    __table_args__ = (PrimaryKeyConstraint("connection", "kind"),)

    connection: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
