"""Registering a web hook makes the emulator POST order events to it, and the payload names the order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopbridge.connectors.starweb.translate import webhook_hints
from shopbridge.sandbox import starweb
from shopbridge.sandbox.server import serving

from .support import signed_in


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback endpoint that records every JSON body posted to it."""
    received: list[dict[str, Any]] = []

    async def record(request: Request) -> Response:
        received.append(await request.json())
        return Response(status_code=204)

    with serving(Starlette(routes=[Route("/hook", record, methods=["POST"])])) as server:
        yield f"{server.url}/hook", received


def wait_for(received: list[dict[str, Any]], count: int) -> None:
    starweb.wait_for_deliveries()
    deadline = time.monotonic() + 5
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.01)


async def test_order_events_reach_registered_hooks(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    state = starweb.seeded_state(seed=1)
    async with signed_in(state) as http:
        for event in ("order-created", "order-status-changed"):
            answer = await http.post("web-hooks", json={"name": event, "event": event, "url": url})
            assert answer.status_code == 201
        order_id = starweb.place_order(state)
        patched = await http.patch(f"orders/{order_id}", json={"statusId": starweb.STATUS_PICKING})
    assert patched.status_code == 200
    wait_for(received, 2)
    by_event = {body["event"]: body for body in received}  # deliveries run in parallel threads
    assert sorted(by_event) == ["order-created", "order-status-changed"]
    changed = by_event["order-status-changed"]
    assert changed["orderStatusId"] == starweb.STATUS_PICKING and changed["orderStatusIdCode"] == "picking"
    assert all(webhook_hints(body) == [(state.shop_code, str(order_id))] for body in received)
    assert [delivery.status for delivery in state.deliveries] == [204, 204]


async def test_a_status_hook_with_a_status_fires_for_that_status_only(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    url, received = receiver
    state = starweb.seeded_state(seed=1)
    async with signed_in(state) as http:
        hook = {"name": "done", "event": "order-status-changed", "statusId": starweb.STATUS_COMPLETED, "url": url}
        assert (await http.post("web-hooks", json=hook)).status_code == 201
    order_id = starweb.place_order(state)
    starweb.set_order_status(state, order_id, starweb.STATUS_PICKING)
    starweb.set_order_status(state, order_id, starweb.STATUS_COMPLETED)
    wait_for(received, 1)
    assert [body["orderStatusId"] for body in received] == [starweb.STATUS_COMPLETED]


async def test_an_unreachable_hook_is_recorded_and_blocks_nothing() -> None:
    state = starweb.seeded_state(seed=1)
    state.webhooks[1] = {"webHookId": 1, "name": "gone", "event": "order-created", "url": "http://127.0.0.1:9/x"}
    order_id = starweb.place_order(state)
    starweb.wait_for_deliveries()
    assert order_id in state.orders
    assert [delivery.status for delivery in state.deliveries] == [0]
