"""The Norce client against the emulator in-process: token caching and refresh, and error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from shopbridge.connectors.norce.client import NorceClient
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.sandbox import norce
from shopbridge.sandbox.faults import FaultRule

URL = "http://norce.test"
DK = 101


@dataclass
class Ticking:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Wire:
    state: norce.NorceState
    clock: Ticking
    seen: list[httpx.Request]

    def client(self, secret: str | None = None, environment: str | None = None) -> NorceClient:
        async def record(request: httpx.Request) -> None:
            self.seen.append(request)

        transport = httpx.ASGITransport(app=norce.create_app(self.state))
        http = httpx.AsyncClient(transport=transport, event_hooks={"request": [record]})
        return NorceClient(http, URL, self.state.client_id, secret or self.state.client_secret,
                           environment or self.state.environment, clock=self.clock)  # fmt: skip

    def token_requests(self) -> int:
        return sum(1 for request in self.seen if request.url.path.endswith("/connect/token"))


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    state = norce.seeded_state(seed=3, orders=3)
    yield Wire(state, Ticking(), [])


async def test_one_token_serves_many_calls(wire: Wire) -> None:
    client = wire.client()
    for _ in range(3):
        await client.query_orders(DK, {"$top": "1"})
    assert wire.token_requests() == 1


async def test_token_is_refreshed_a_minute_before_it_expires(wire: Wire) -> None:
    client = wire.client()
    await client.query_orders(DK, {"$top": "1"})
    wire.clock.now += 3600 - 61
    await client.query_orders(DK, {"$top": "1"})
    assert wire.token_requests() == 1
    wire.clock.now += 2
    await client.query_orders(DK, {"$top": "1"})
    assert wire.token_requests() == 2


async def test_token_the_server_forgot_is_replaced_once(wire: Wire) -> None:
    client = wire.client()
    await client.query_orders(DK, {"$top": "1"})
    wire.state.tokens.clear()
    await client.query_orders(DK, {"$top": "1"})
    assert wire.token_requests() == 2


async def test_bearer_refused_twice_is_a_config_error(wire: Wire) -> None:
    client = wire.client()
    wire.state.faults.add(FaultRule("status", path="/commerce/", status=401, times=2))
    with pytest.raises(ConfigError) as caught:
        await client.query_orders(DK, {"$top": "1"})
    assert caught.value.status == 401 and wire.token_requests() == 2


@pytest.mark.parametrize(("secret", "environment"), [("wrong-secret", None), (None, "prod")])
async def test_wrong_credentials_or_environment_are_config_errors(
    wire: Wire, secret: str | None, environment: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        await wire.client(secret, environment).query_orders(DK, {"$top": "1"})
    assert "wrong-secret" not in str(caught.value) + caught.value.body_excerpt


async def test_token_endpoint_limit_is_transient_with_retry_after(wire: Wire) -> None:
    wire.state.enforce_token_limits = True
    wire.state.token_bucket = 0.5
    with pytest.raises(TransientError) as caught:
        await wire.client().token()
    assert caught.value.status == 429 and caught.value.retry_after == 20


async def test_next_link_to_another_host_is_refused_before_the_token_travels(wire: Wire) -> None:
    client = wire.client()
    with pytest.raises(ConfigError):
        await client.follow(DK, "http://evil.test/commerce/query/2.0/Orders/Orders?$skip=4")
    assert wire.seen == []


async def test_missing_application_header_context_is_a_data_error_not_a_retry(wire: Wire) -> None:
    with pytest.raises(DataError) as caught:
        await wire.client().query_orders(999, {"$top": "1"})
    assert caught.value.status == 400 and "Unknown application" in caught.value.message


async def test_order_status_is_reported_back_through_connect(wire: Wire) -> None:
    order_no = norce.place_order(wire.state, DK, status=norce.Status.CREATED)
    body = {"ClientOrderRef": int(order_no), "ErpOrderNo": "SO-1", "OrderStatus": "Acknowledged", "Infos": []}
    await wire.client().send_order_status(body)
    order = wire.state.order_by_no(order_no)
    assert order is not None and (order.status, order.erp_order_no) == (norce.Status.CONFIRMED, "SO-1")


async def test_refused_status_report_is_a_data_error_with_norces_reason(wire: Wire) -> None:
    with pytest.raises(DataError) as caught:
        await wire.client().send_order_status({"ClientOrderRef": 1, "OrderStatus": "Confirmed"})
    assert caught.value.status == 400 and "Order not found" in caught.value.message
