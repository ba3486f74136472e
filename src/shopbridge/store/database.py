"""Engine creation, short transactions and Alembic migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from shopbridge.errors import DataError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Option that marks a connection whose transactions will write; SQLite then takes the write
# lock at BEGIN, so two writers queue on busy_timeout instead of failing on lock upgrade.
WRITE_OPTION = "shopbridge_write"
# Serialises concurrent `migrate` calls on PostgreSQL (any constant shared by all processes).
MIGRATION_LOCK_ID = 0x5B0B_0001

_PLAIN_POSTGRES_SCHEMES = {"postgres", "postgresql"}
# Alembic keeps its running context in module globals, so one migration per process at a time.
_MIGRATION_THREAD_LOCK = threading.Lock()


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def database_now(session: Session) -> datetime:
    """The database server's clock, so that leases never depend on a worker's own clock."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite runs inside this process; its clock is this machine's, shared by its workers.
        stamp = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.fromisoformat(str(stamp)).replace(tzinfo=UTC)
    value = session.execute(text("SELECT clock_timestamp()")).scalar_one()
    return require_aware(value, "the database clock").astimezone(UTC)


def require_aware(value: datetime, what: str) -> datetime:
    """`value` unchanged if it carries a UTC offset; a naive datetime is a ValueError."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} needs an aware datetime, got naive {value!r}")
    return value


def normalise_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the only PostgreSQL driver we ship."""
    scheme, separator, rest = url.partition("://")
    if separator and scheme in _PLAIN_POSTGRES_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


def create_store_engine(url: str) -> Engine:
    """An engine for a store URL; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    # sqlite3's own implicit BEGIN is switched off so that _begin_sqlite_transaction decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL commits without an fsync each: a process killed at any point keeps every committed
    # transaction; only an OS crash or power loss may roll back the last ones, and the ERP is
    # always searched for the transfer id before a write, long after such a reboot has settled.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    writing = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def insert_for(session: Session, table: Table) -> Any:
    """A dialect INSERT for `table` that supports ON CONFLICT on SQLite and PostgreSQL."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")


class Database:
    """One engine plus session factories for reading and for writing transactions."""

    def __init__(self, url: str) -> None:
        self.engine = create_store_engine(url)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read-only transaction."""
        with self._reader.begin() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A short transaction that will write; committed on success, rolled back on error.

        A value the database refuses (NUL in PostgreSQL text, a number out of range) is a
        DataError of ours, so the record is parked with the reason instead of retried forever.
        """
        try:
            with self._writer.begin() as session:
                yield session
        except sqlalchemy.exc.DataError as exc:
            raise DataError(f"a value cannot be stored: {exc.orig}", system="store") from exc

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration using the migrations shipped inside the package."""
    config = Config(attributes={"connection": connection} if connection is not None else {})
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> None:
    """Run every pending migration on `engine` (a no-op when the schema is current)."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    with _MIGRATION_THREAD_LOCK, writer.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def migrate(url: str) -> None:
    """Create or upgrade the schema at `url` to the newest migration."""
    engine = create_store_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
