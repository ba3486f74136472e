"""Webhook deliveries: the emulator POSTs order events to every registered URL, in the background."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from shopbridge.sandbox.starweb.render import order_totals, wire_time
from shopbridge.sandbox.starweb.state import Delivery, Record, StarwebState

DELIVERY_TIMEOUT = 5.0
# A status change is also an update; an order event reaches the hooks of each name listed.
ALSO_ANNOUNCED = {"order-status-changed": ("order-updated",)}
_threads: list[threading.Thread] = []


def order_payload(state: StarwebState, event: str, order: Record) -> dict[str, Any]:
    """The order event body as the C# client's model classes read it (spec §6 WebHook; uncertain)."""
    net, vat = order_totals(order)
    status = state.order_statuses.get(order["statusId"], {})
    return {
        "eventId": uuid.uuid4().hex, "event": event, "shopIdCode": state.shop_code,
        "eventTimeStamp": wire_time(state.clock(), state.timezone), "orderId": order["orderId"],
        "shippingMethodId": order["shippingMethodId"], "paymentMethodId": order["paymentMethodId"],
        "orderStatusId": order["statusId"], "orderStatusIdCode": status.get("idCode", ""),
        "totalAmount": f"{net + vat:.2f}", "currencyCode": order["currencyCode"],
    }  # fmt: skip


def hooks_for(state: StarwebState, event: str, order: Record) -> list[Record]:
    """Registered hooks for `event`; an `order-status-changed` hook with a statusId fires for that status only."""
    names = (event, *ALSO_ANNOUNCED.get(event, ()))
    return [
        hook for hook in state.webhooks.values()
        if hook["event"] in names and (hook.get("statusId") is None or hook["event"] != "order-status-changed"
                                       or hook["statusId"] == order["statusId"])
    ]  # fmt: skip


def announce(state: StarwebState, event: str, order: Record) -> None:
    """POST the event to its hooks, each in a daemon thread so neither the API nor a helper waits."""
    for hook in hooks_for(state, event, order):
        payload = order_payload(state, hook["event"], order)
        thread = threading.Thread(target=_deliver, args=(state, hook["url"], payload), daemon=True)
        _threads.append(thread)
        thread.start()


def _deliver(state: StarwebState, url: str, payload: dict[str, Any]) -> None:
    try:
        status = httpx.post(url, json=payload, timeout=DELIVERY_TIMEOUT).status_code
    except httpx.HTTPError:
        status = 0
    state.deliveries.append(Delivery(url, payload, status))


def wait_for_deliveries(timeout: float = DELIVERY_TIMEOUT) -> None:
    """Block until every delivery started so far has finished (tests and the demo)."""
    while _threads:
        _threads.pop().join(timeout)
