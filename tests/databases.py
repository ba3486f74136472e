"""Databases for tests: a SQLite file, or a private schema in the local PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shopbridge.store.database import normalise_url

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
