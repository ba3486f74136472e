"""Fixtures shared across the suite: real emulators on loopback, a real store, the real
Temporal dev server (one per session, a fresh task queue per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from temporalio.testing import WorkflowEnvironment

from shopbridge.connection_file import apply_connection
from shopbridge.engine.devserver import temporal_executable
from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.server import BackgroundServer, serving
from shopbridge.store import ConnectionRecord, SecretBox, Store
from tests.databases import BACKENDS, MigratedTemplates

CONNECTION = "acme"
# How long a test ERP takes to settle after a write whose outcome is unknown (e-conomic's own
# figure is its timeout plus ten seconds; tests keep to a fraction of a second).
SETTLE_SECONDS = 0.5


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first (a stable sort keeps the rest in order): started last, one of them would
    keep the whole run waiting while the other workers sit idle."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@dataclass
class World:
    """A PrestaShop emulator and an e-conomic emulator serving over loopback HTTP."""

    shop_state: prestashop.PrestaShopState
    erp_state: economic.EconomicState
    shop: BackgroundServer
    erp: BackgroundServer
    # Unique per test: transfer ids are Temporal workflow ids, shared by the whole session.
    name: str = field(default_factory=lambda: f"{CONNECTION}-{uuid.uuid4().hex[:8]}")

    def connection(self, name: str | None = None, **orders: Any) -> dict[str, Any]:
        rules: dict[str, Any] = {
            "trigger_statuses": ["2", "3", "4", "5"],
            "document": "invoice",
            "settle_seconds": SETTLE_SECONDS,
        }
        rules.update(orders)
        return {
            "name": name or self.name,
            "shop": {
                "system": "prestashop",
                "url": self.shop.url,
                "key": self.shop_state.api_key,
                "timeout_seconds": 5,
            },
            "erp": {
                "system": "economic",
                "url": self.erp.url,
                "app_secret_token": self.erp_state.app_secret_token,
                "agreement_grant_token": self.erp_state.agreement_grant_token,
                "timeout_seconds": 5,
            },
            "orders": rules,
        }

    def transfer_id(self, order_id: int | str) -> str:
        return f"{self.name}/1/{order_id}"

    def documents(self, reference: str) -> list[tuple[str, int]]:
        return economic.documents_by_reference(self.erp_state).get(reference, [])

    def duplicates(self) -> int:
        found = economic.documents_by_reference(self.erp_state).values()
        return sum(len(documents) - 1 for documents in found if len(documents) > 1)


@pytest.fixture
def world() -> Iterator[World]:
    shop_state = prestashop.seeded_state(seed=7)
    erp_state = economic.seeded_state(seed=7)
    with serving(prestashop.create_app(shop_state)) as shop, serving(economic.create_app(erp_state)) as erp:
        yield World(shop_state, erp_state, shop, erp)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> MigratedTemplates:
    return MigratedTemplates(tmp_path_factory.mktemp("migrated"))


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates) -> Iterator[Store]:
    """A migrated store on a SQLite file, and again on a private PostgreSQL schema."""
    with migrated_templates.database(request.param, tmp_path) as url:
        opened = Store(url, SecretBox(Fernet.generate_key()))
        # A pooled connection ready, as migrating through the store used to leave one: lease tests
        # time their first steps in fractions of a second.
        with opened.database.engine.connect():
            pass
        yield opened
        opened.close()


@pytest.fixture
def connection(world: World, store: Store) -> ConnectionRecord:
    return apply_connection(store, world.connection())


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_executable()), dev_server_log_level="error"
    )
    yield env
    await env.shutdown()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
