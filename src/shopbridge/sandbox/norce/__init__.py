"""Norce Commerce (formerly Jetshop) emulator: Query orders, Connect order and import services, order push."""

from shopbridge.sandbox.norce.app import create_app
from shopbridge.sandbox.norce.push import push_order, send_event
from shopbridge.sandbox.norce.seed import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    add_product,
    arrive_late,
    order_gross,
    place_order,
    seeded_state,
    set_order_status,
    touch,
)
from shopbridge.sandbox.norce.state import Channel, EventWebhook, NorceState, Order, PushConfig, Status

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "Channel",
    "EventWebhook",
    "NorceState",
    "Order",
    "PushConfig",
    "Status",
    "add_product",
    "arrive_late",
    "create_app",
    "order_gross",
    "place_order",
    "push_order",
    "seeded_state",
    "send_event",
    "set_order_status",
    "touch",
]
