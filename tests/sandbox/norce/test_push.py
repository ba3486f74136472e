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
