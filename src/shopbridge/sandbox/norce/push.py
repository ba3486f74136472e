"""Order push to the ERP's order receiver (spec §2a): POST the OrderRequest, retry until `StatusCode` is OK."""

from __future__ import annotations

import asyncio
import json

import httpx

from shopbridge.sandbox.norce.render import order_request
from shopbridge.sandbox.norce.state import NorceState, PushAttempt

PUSH_TIMEOUT_SECONDS = 5.0  # the events' documented timeout (spec §2c); the push's is not published


async def push_order(state: NorceState, order_no: str, http: httpx.AsyncClient | None = None) -> bool:
    """Deliver one order; True once the receiver answered OK, False after the last retry (escalated)."""
    order = state.order_by_no(order_no)
    if order is None or not state.push.url:
        raise LookupError(f"no order {order_no} or no receiver URL configured")
    body = order_request(order, state.channels[order.application_id])
    own = http is None
    client = http or httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS)
    try:
        for delay in (0.0, *state.push.retry_delays):
            await asyncio.sleep(delay)
            if await _attempt(state, client, order_no, body):
                return True
    finally:
        if own:
            await client.aclose()
    state.escalated.append(order_no)
    return False


async def _attempt(state: NorceState, client: httpx.AsyncClient, order_no: str, body: object) -> bool:
    auth = httpx.BasicAuth(state.push.username, state.push.password)
    try:
        response = await client.post(state.push.url, json=body, auth=auth)
    except httpx.HTTPError as exc:
        state.push_log.append(PushAttempt(order_no, None, type(exc).__name__, state.now()))
        return False
    state.push_log.append(PushAttempt(order_no, response.status_code, response.text[:200], state.now()))
    return response.is_success and _answered_ok(response.text)


def _answered_ok(text: str) -> bool:
    """An OrderResponse with `StatusCode` "OK"; anything else counts as a failure to retry."""
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    return isinstance(answer, dict) and str(answer.get("StatusCode", "")).upper() == "OK"
