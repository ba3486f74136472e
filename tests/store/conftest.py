"""Store fixtures: every store test runs on a SQLite file and on a private PostgreSQL schema."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shopbridge.store import SecretBox, Store, migrate
from shopbridge.store.database import normalise_url
from shopbridge.store.tables import Base

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_server_url() -> str:
    return normalise_url(os.environ.get("SHOPBRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


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
        pytest.skip(f"PostgreSQL is not reachable at {server_url}: {error.orig}")
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def blank_database(backend: str, directory: str) -> Iterator[str]:
    """The URL of an empty database of the given backend."""
    if backend == "sqlite":
        yield f"sqlite:///{directory}/store-{uuid4().hex[:8]}.db"
        return
    with private_postgres_schema() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def blank_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """An empty database (no tables at all) per test."""
    with blank_database(request.param, str(tmp_path)) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by the session's tests of one backend."""
    with blank_database(request.param, str(tmp_path_factory.mktemp("store"))) as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def secret_box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def store(database_url: str, secret_box: SecretBox) -> Iterator[Store]:
    """A store over the migrated database, emptied again after the test."""
    opened = Store(database_url, secret_box)
    try:
        yield opened
    finally:
        with opened.database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(delete(table))
        opened.close()


@pytest.fixture
def connection_id(store: Store) -> int:
    """The id of a freshly applied demo connection."""
    record = store.connections.apply("demo", "prestashop", "economic", {}, {"api_key": "k"})
    return record.id
