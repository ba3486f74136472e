"""Alembic environment: runs the store's migrations on a handed-in connection or a URL."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, text

from shopbridge.settings import Settings
from shopbridge.store.database import MIGRATION_LOCK_ID, WRITE_OPTION, create_store_engine
from shopbridge.store.tables import Base, UTCDateTime


def _database_url() -> str:
    configured = context.config.get_main_option("sqlalchemy.url")
    return configured or Settings().resolved_database_url()


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # New migrations spell the column type plainly, so they never import application code.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two processes starting at once must not both create the schema.
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


def run_migrations_online() -> None:
    handed_in = context.config.attributes.get("connection")
    if handed_in is not None:
        _run_on(handed_in)
        return
    engine = create_store_engine(_database_url())
    try:
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
