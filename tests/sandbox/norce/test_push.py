"""Order push to a receiver over loopback: Basic auth, retried until the receiver says OK, else escalated."""

from __future__ import annotations

import base64
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shopbridge.sandbox import norce
from shopbridge.sandbox.server import serving


class Receiver:
    """An order receiver that fails its first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def receive(self, request: Request) -> JSONResponse:
        user = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        self.received.append((user, await request.json()))
        if len(self.received) <= self.failures:
            # Alternately an HTTP error and a 200 whose StatusCode says Failed: both count as failures.
            status = 500 if len(self.received) % 2 else 200
            return JSONResponse({"StatusCode": "Failed", "Description": "busy"}, status_code=status)
        return JSONResponse({"StatusCode": "OK", "Description": "queued", "HasErpOrderNo": False, "ErpOrderNo": None})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/orders", self.receive, methods=["POST"])])


def pushing_state(url: str, delays: tuple[float, ...]) -> norce.NorceState:
    state = norce.seeded_state(seed=5)
    state.push = norce.PushConfig(url=url, username="erp", password="s3cret", retry_delays=delays)
    return state


async def test_push_retries_until_the_receiver_answers_ok() -> None:
    receiver = Receiver(failures=2)
    with serving(receiver.app()) as server:
        state = pushing_state(server.url + "/orders", (0.0, 0.0, 0.0))
        order_no = norce.place_order(state, 102, lines=[("MUG-01", 2)])
        assert await norce.push_order(state, order_no)
    assert len(receiver.received) == 3 and state.escalated == []
    user, body = receiver.received[-1]
    assert user == "erp:s3cret"
    assert body["ClientOrderRef"] == order_no and body["Header"]["ApplicationKey"] == state.channels[102].key
    assert body["Items"][0]["PartNo"] == "MUG-01" and body["CurrencyCode"] == "SEK"


async def test_push_gives_up_after_the_last_retry_and_escalates() -> None:
    receiver = Receiver(failures=10)
    with serving(receiver.app()) as server:
        state = pushing_state(server.url + "/orders", (0.0, 0.0))
        order_no = norce.place_order(state, 101)
        assert not await norce.push_order(state, order_no)
    assert len(receiver.received) == 3 and state.escalated == [order_no]
    assert [attempt.status for attempt in state.push_log] == [500, 200, 500]


async def test_unreachable_receiver_is_retried_and_recorded() -> None:
    state = pushing_state("http://127.0.0.1:9/orders", (0.0,))
    order_no = norce.place_order(state, 101)
    assert not await norce.push_order(state, order_no)
    assert [attempt.status for attempt in state.push_log] == [None, None]


async def test_order_event_is_retried_on_any_non_2xx_with_its_static_headers() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    async def hook(request: Request) -> JSONResponse:
        seen.append((request.headers.get("x-hook-secret", ""), await request.json()))
        return JSONResponse({}, status_code=503 if len(seen) == 1 else 204)

    with serving(Starlette(routes=[Route("/events", hook, methods=["POST"])])) as server:
        state = norce.seeded_state(seed=5)
        state.events = norce.EventWebhook(server.url + "/events", {"X-Hook-Secret": "abc"}, retry_delays=(0.0,))
        order_no = norce.place_order(state, 102)
        assert await norce.send_event(state, "OrderConfirmedEvent", order_no)
    assert [secret for secret, _ in seen] == ["abc", "abc"]
    event = seen[-1][1]
    assert (event["ApplicationId"], event["OrderNo"], event["EventType"]) == (102, order_no, "OrderConfirmedEvent")


def test_event_backoff_follows_the_documented_schedule() -> None:
    delays = norce.EventWebhook().retry_delays
    assert delays[:5] == (5.0, 10.0, 15.0, 30.0, 60.0) and len(delays) >= 16
    assert 20 * 3600 < sum(delays) < 24 * 3600
