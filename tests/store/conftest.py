"""Store fixtures: every store test runs on a SQLite file and on a private PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete

from shopbridge.store import SecretBox, Store, migrate
from shopbridge.store.tables import Base
from tests.databases import BACKENDS, blank_database


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
