"""Migrations build the schema from nothing, repeat harmlessly and match tables.py exactly."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect, text

from shopbridge.settings import Settings
from shopbridge.store import Store, migrate
from shopbridge.store.database import (
    alembic_config,
    create_store_engine,
    normalise_url,
)
from shopbridge.store.tables import Base

EXPECTED_TABLES = {
    "tenants", "connections", "bindings", "cursors", "order_transfers", "events", "creation_claims", "api_tokens"
}
EXPECTED_TABLES |= {"agent_tokens", "agent_jobs", "agent_exports", "poll_turns"}


def _table_names(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _current_revision(url: str) -> str | None:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrate_creates_every_table_from_an_empty_database(blank_url: str) -> None:
    assert _table_names(blank_url) == set()
    migrate(blank_url)
    assert _table_names(blank_url) == EXPECTED_TABLES | {"alembic_version"}
    assert _current_revision(blank_url) == _head_revision()


def test_migrate_again_is_a_no_op_that_keeps_data(blank_url: str) -> None:
    migrate(blank_url)
    engine = create_store_engine(blank_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (name, created_at) VALUES ('t', CURRENT_TIMESTAMP)")
        )
    migrate(blank_url)
    with engine.connect() as connection:
        names = connection.execute(text("SELECT name FROM tenants")).scalars().all()
    engine.dispose()
    assert names == ["t"]
    assert _current_revision(blank_url) == _head_revision()


def test_concurrent_migrations_in_threads_both_succeed(blank_url: str) -> None:
    failures: list[BaseException] = []

    def run() -> None:
        try:
            migrate(blank_url)
        except Exception as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _table_names(blank_url) == EXPECTED_TABLES | {"alembic_version"}


# Each process imports first, reports ready, then waits for "go", so the upgrades overlap.
MIGRATE_ON_GO = """
import sys
from shopbridge.store import migrate
print("ready", flush=True)
sys.stdin.readline()
migrate(sys.argv[1])
"""


def test_migrations_racing_another_process_both_succeed(blank_url: str) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", MIGRATE_ON_GO, blank_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert other.stdout is not None and other.stdout.readline() == b"ready\n"
    assert other.stdin is not None
    other.stdin.write(b"go\n")
    other.stdin.flush()
    migrate(blank_url)
    _, stderr = other.communicate(timeout=60)
    assert other.returncode == 0, stderr.decode()
    assert _table_names(blank_url) == EXPECTED_TABLES | {"alembic_version"}


def test_migration_matches_the_declared_tables(blank_url: str) -> None:
    migrate(blank_url)
    engine = create_store_engine(blank_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migration_creates_the_declared_check_constraints(blank_url: str) -> None:
    # Alembic's comparison skips CHECK constraints, so their names are compared here.
    migrate(blank_url)
    engine = create_store_engine(blank_url)
    inspector = inspect(engine)
    created = {
        table.name: {check["name"] for check in inspector.get_check_constraints(table.name)}
        for table in Base.metadata.sorted_tables
    }
    engine.dispose()
    declared = {
        table.name: {
            str(constraint.name)
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
        }
        for table in Base.metadata.sorted_tables
    }
    assert created == declared
    assert declared["order_transfers"] == {"ck_order_transfers_state", "ck_order_transfers_error_kind"}


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        }
    engine.dispose()
    assert pragma["journal_mode"] == "wal"
    assert pragma["busy_timeout"] >= 1000
    assert pragma["foreign_keys"] == 1


def test_sqlite_file_directory_is_created_on_demand(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/deeper/store.db"
    migrate(url)
    assert (tmp_path / "nested" / "deeper" / "store.db").exists()


def test_plain_postgres_urls_use_psycopg() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_store_open_creates_data_dir_schema_and_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=None, secret_key=None)
    with Store.open(settings) as store:
        record = store.connections.apply("demo", "prestashop", "economic", {}, {"k": "v"})
    assert (tmp_path / "data" / "secret.key").exists()
    with Store.open(settings, migrate=False) as reopened:
        assert reopened.connections.get("demo").secrets == {"k": "v"}
        assert reopened.connections.get("demo").id == record.id
