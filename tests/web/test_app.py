"""The web app over ASGI: JSON API, retry and webhook validation (no engine attached)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from shopbridge.store import Store
from shopbridge.web.app import create_app
from shopbridge.web.webhooks import SIGNATURE_HEADER, sign
from tests.conftest import World
from tests.web.conftest import Ledger


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(store))
    headers = {"Authorization": f"Bearer {store.tokens.create('operator')}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://shopbridge", headers=headers) as client:
        yield client


def signed(store: Store, connection: str, body: bytes) -> dict[str, str]:
    secret = store.connections.get(connection).secrets["webhook_secret"]
    return {SIGNATURE_HEADER: sign(secret, body), "content-type": "application/json"}


async def test_orders_api_lists_transferred_and_parked_orders(http: httpx.AsyncClient, ledger: Ledger) -> None:
    rows = (await http.get("/api/orders")).json()
    states = {row["transfer_id"]: row["state"] for row in rows}
    assert states == {ledger.transferred: "transferred", ledger.parked: "parked"}


async def test_orders_api_filters_by_state(http: httpx.AsyncClient, ledger: Ledger) -> None:
    rows = (await http.get("/api/orders", params={"state": "parked"})).json()
    assert [row["transfer_id"] for row in rows] == [ledger.parked]


async def test_summary_counts_each_state(http: httpx.AsyncClient, ledger: Ledger) -> None:
    assert (await http.get("/api/summary")).json() == {"pending": 0, "in_progress": 0, "transferred": 1, "parked": 1}


async def test_order_detail_carries_reason_and_timeline(http: httpx.AsyncClient, ledger: Ledger) -> None:
    detail = (await http.get(f"/api/orders/{ledger.parked}")).json()
    assert "no article for SKU" in detail["transfer"]["last_error"]
    assert [event["kind"] for event in detail["events"]] == ["order.parked"]


async def test_retry_releases_a_parked_order(http: httpx.AsyncClient, store: Store, ledger: Ledger) -> None:
    response = await http.post(f"/api/orders/{ledger.parked}/retry")
    assert response.status_code == 202
    assert store.ledger.get(ledger.parked).state == "pending"


async def test_retry_refuses_a_transferred_order(http: httpx.AsyncClient, ledger: Ledger) -> None:
    assert (await http.post(f"/api/orders/{ledger.transferred}/retry")).status_code == 409


async def test_unknown_order_is_404(http: httpx.AsyncClient, ledger: Ledger) -> None:
    assert (await http.get("/api/orders/acme/1/999")).status_code == 404


@pytest.mark.parametrize("body", [{"id": "12; DROP TABLE"}, {"id": ""}, {"shop": "1"}, {"id": "x" * 65}])
async def test_webhook_refuses_malformed_order_ids(
    http: httpx.AsyncClient, store: Store, world: World, ledger: Ledger, body: dict[str, str]
) -> None:
    raw = json.dumps(body).encode()
    response = await http.post(f"/webhooks/{world.name}/orders", content=raw, headers=signed(store, world.name, raw))
    assert response.status_code == 422


async def test_a_signed_webhook_is_accepted(
    http: httpx.AsyncClient, store: Store, world: World, ledger: Ledger
) -> None:
    raw = b'{"id": "5"}'
    response = await http.post(f"/webhooks/{world.name}/orders", content=raw, headers=signed(store, world.name, raw))
    assert response.status_code == 202


async def test_webhook_for_an_unknown_connection_is_401(http: httpx.AsyncClient, ledger: Ledger) -> None:
    assert (await http.post("/webhooks/nobody/orders", json={"id": "1"})).status_code == 401


async def test_orders_page_escapes_hostile_reasons(http: httpx.AsyncClient, ledger: Ledger) -> None:
    page = (await http.get("/")).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
