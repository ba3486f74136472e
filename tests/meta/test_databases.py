"""tests/databases.py never hides the PostgreSQL half behind a silent skip."""

from __future__ import annotations

import pytest

from tests.databases import SKIP_POSTGRES_VARIABLE, private_postgres_schema


def test_unreachable_postgres_fails_without_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(SKIP_POSTGRES_VARIABLE, raising=False)
    monkeypatch.setenv("SHOPBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:9/test?connect_timeout=2")
    with pytest.raises(pytest.fail.Exception, match="not reachable"), private_postgres_schema():
        pass


def test_unreachable_postgres_skips_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SKIP_POSTGRES_VARIABLE, "1")
    monkeypatch.setenv("SHOPBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:9/test?connect_timeout=2")
    with pytest.raises(pytest.skip.Exception), private_postgres_schema():
        pass
