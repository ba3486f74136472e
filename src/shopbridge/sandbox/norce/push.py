"""Norce calling out: the order push to the ERP's order receiver (spec §2a) and order event webhooks (§2c)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

import httpx

from shopbridge.sandbox.norce.render import order_request
from shopbridge.sandbox.norce.state import NorceState, PushAttempt

TIMEOUT_SECONDS = 5.0  # the events' documented timeout (spec §2c); the push's is not published
Accept = Callable[[httpx.Response], bool]


async def push_order(state: NorceState, order_no: str, http: httpx.AsyncClient | None = None) -> bool:
    """Deliver one OrderRequest; True once the receiver answered OK, False after the last retry (escalated)."""
    order = state.order_by_no(order_no)
    if order is None or not state.push.url:
        raise LookupError(f"no order {order_no} or no receiver URL configured")
    body = order_request(order, state.channels[order.application_id])
    credentials = base64.b64encode(f"{state.push.username}:{state.push.password}".encode()).decode()
    request = httpx.Request("POST", state.push.url, json=body, headers={"Authorization": f"Basic {credentials}"})
    delivered = await _deliver(state, order_no, request, state.push.retry_delays, _answered_ok, http)
    if not delivered:
        state.escalated.append(order_no)
    return delivered


async def send_event(state: NorceState, kind: str, order_no: str, http: httpx.AsyncClient | None = None) -> bool:
    """POST an order event (`OrderConfirmedEvent` …) to the webhook; retried on any non-2xx (spec §2c)."""
    order = state.order_by_no(order_no)
    if order is None or not state.events.url:
        raise LookupError(f"no order {order_no} or no webhook URL configured")
    body = {"ClientId": 1, "ApplicationId": order.application_id, "OrderId": order.id, "OrderNo": order.order_no,
            "ClientOrderRef": order.order_no, "CellPhone": order.buyer.phone, "FirstName": order.buyer.first_name,
            "LastName": order.buyer.last_name, "Source": "WEB", "EventType": kind}  # fmt: skip
    request = httpx.Request("POST", state.events.url, json=body, headers=state.events.headers)
    return await _deliver(state, order_no, request, state.events.retry_delays, lambda r: r.is_success, http)


async def _deliver(
    state: NorceState, order_no: str, request: httpx.Request, delays: tuple[float, ...], accept: Accept,
    http: httpx.AsyncClient | None,
) -> bool:  # fmt: skip
    client = http or httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
    try:
        for delay in (0.0, *delays):
            await asyncio.sleep(delay)
            if await _attempt(state, client, order_no, request, accept):
                return True
        return False
    finally:
        if http is None:
            await client.aclose()


async def _attempt(
    state: NorceState, client: httpx.AsyncClient, order_no: str, request: httpx.Request, accept: Accept
) -> bool:
    try:
        response = await client.send(request)
    except httpx.HTTPError as exc:
        state.push_log.append(PushAttempt(order_no, None, type(exc).__name__, state.now()))
        return False
    state.push_log.append(PushAttempt(order_no, response.status_code, response.text[:200], state.now()))
    return accept(response)


def _answered_ok(response: httpx.Response) -> bool:
    """A 2xx OrderResponse with `StatusCode` "OK"; anything else counts as a failure to retry."""
    try:
        answer = json.loads(response.text)
    except ValueError:
        return False
    return response.is_success and isinstance(answer, dict) and str(answer.get("StatusCode", "")).upper() == "OK"
