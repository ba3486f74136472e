"""Databases for tests: a SQLite file, or a private schema in the local PostgreSQL."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shopbridge.store import migrate
from shopbridge.store.database import alembic_config, normalise_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SKIP_POSTGRES_VARIABLE = "SHOPBRIDGE_TEST_SKIP_POSTGRES"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_server_url() -> str:
    return normalise_url(os.environ.get("SHOPBRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


def postgres_unreachable(reason: str) -> None:
    """Fail: a silent skip would hide a whole backend. Skipping is asked for by name only."""
    if os.environ.get(SKIP_POSTGRES_VARIABLE) == "1":
        pytest.skip(reason)
    pytest.fail(f"{reason} (start it, e.g. scripts/ensure-postgres.sh, or set {SKIP_POSTGRES_VARIABLE}=1 to skip)")


@contextmanager
def private_postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards, so runs never collide."""
    server_url = postgres_server_url()
    schema = f"shopbridge_test_{uuid4().hex[:12]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        admin.dispose()
        postgres_unreachable(f"PostgreSQL is not reachable at {server_url}: {error.orig}")
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def blank_database(backend: str, directory: str | os.PathLike[str]) -> Iterator[str]:
    """The URL of an empty database of the given backend."""
    if backend == "sqlite":
        yield f"sqlite:///{directory}/store-{uuid4().hex[:8]}.db"
        return
    with private_postgres_schema() as url:
        yield url


class MigratedTemplates:
    """Each backend's migrations run once; every test's store starts from a copy of the result.

    SQLite: a migrated file, copied. PostgreSQL: the migrations' own SQL (Alembic's offline
    rendering of the same scripts), run in the test's fresh schema in one round trip.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._sqlite_file: Path | None = None
        self._postgres_sql: str | None = None

    def sqlite_file(self) -> Path:
        if self._sqlite_file is None:
            path = self.directory / "migrated-template.db"
            migrate(f"sqlite:///{path}")
            self._sqlite_file = path
        return self._sqlite_file

    def postgres_sql(self) -> str:
        if self._postgres_sql is None:
            config = alembic_config()
            config.output_buffer = io.StringIO()
            config.set_main_option("sqlalchemy.url", postgres_server_url())
            command.upgrade(config, "head", sql=True)
            self._postgres_sql = config.output_buffer.getvalue()
        return self._postgres_sql

    @contextmanager
    def database(self, backend: str, directory: str | os.PathLike[str]) -> Iterator[str]:
        """The URL of a database of the given backend holding the migrated schema and no rows."""
        with blank_database(backend, directory) as url:
            if backend == "sqlite":
                shutil.copyfile(self.sqlite_file(), make_url(url).database or "")
            else:
                engine = create_engine(url)
                try:
                    with engine.begin() as connection:
                        connection.exec_driver_sql(self.postgres_sql())
                finally:
                    engine.dispose()
            yield url
