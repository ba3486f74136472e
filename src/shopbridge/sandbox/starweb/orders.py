"""Handlers for orders and their children, order statuses and web hooks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from shopbridge.sandbox.starweb.query import (
    ORDER_INCLUDES,
    ApiError,
    filter_orders,
    includes,
    page_number,
    paginate,
    sort_orders,
)
from shopbridge.sandbox.starweb.render import render_item, render_order, render_plain, render_status
from shopbridge.sandbox.starweb.respond import Handler, data, found, json_body, path_id
from shopbridge.sandbox.starweb.seed import touch_order
from shopbridge.sandbox.starweb.state import Record, StarwebState
from shopbridge.sandbox.starweb.webhooks import announce

WEBHOOK_EVENTS = (
    "product-created", "product-updated", "product-removed", "order-created", "order-completed", "order-updated",
    "order-deleted", "order-status-changed", "customer-created", "customer-updated", "customer-deleted",
    "shop-opened", "shop-closed", "shop-removed",
)  # fmt: skip
# PATCH /orders/{id} fields the emulator stores, with their JSON type; others are ignored (spec §11).
PATCHABLE_ORDER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "statusId": int, "shippingTrackingNo": str, "shippingTrackerType": int, "internalComment": str, "isRead": bool,
    "customInfo1": str, "customInfo2": str, "customInfo3": str, "customInfo4": str, "paymentStatus": str,
    "paymentReference": str, "amountPaid": (int, float),
}  # fmt: skip
TEXT_LIMIT = 255


def _order(state: StarwebState, request: Request) -> Record:
    return found(state.orders, path_id(request, "orderId"), "order")


# --- orders ---


async def list_orders(state: StarwebState, request: Request) -> Response:
    params = request.query_params
    embed = includes(params, ORDER_INCLUDES)
    rows = sort_orders(filter_orders(list(state.orders.values()), params, state.timezone), params)
    chunk, meta = paginate(rows, page_number(params), state.page_size, str(request.url))
    return data([render_order(state, order, embed) for order in chunk], meta=meta)


async def get_order(state: StarwebState, request: Request) -> Response:
    embed = includes(request.query_params, ORDER_INCLUDES)
    return data(render_order(state, _order(state, request), embed))


async def patch_order(state: StarwebState, request: Request) -> Response:
    """A partial update; a new statusId must exist, and a changed status is announced to the hooks."""
    order = _order(state, request)
    changes = _checked_order_changes(state, await json_body(request))
    status_changed = "statusId" in changes and changes["statusId"] != order["statusId"]
    order.update(changes)
    touch_order(state, order)
    announce(state, "order-status-changed" if status_changed else "order-updated", order)
    return data(render_order(state, order, ()))


def _checked_order_changes(state: StarwebState, body: Record) -> Record:
    changes: Record = {}
    for name, value in body.items():
        expected = PATCHABLE_ORDER_FIELDS.get(name)
        if expected is None:
            continue
        if isinstance(value, bool) is not (expected is bool) or not isinstance(value, expected):
            raise ApiError(400, "validation_failed", f"{name} has the wrong type")
        if isinstance(value, str) and len(value) > TEXT_LIMIT:
            raise ApiError(400, "validation_failed", f"{name} is longer than {TEXT_LIMIT} characters")
        changes[name] = value
    if "statusId" in changes and changes["statusId"] not in state.order_statuses:
        raise ApiError(400, "validation_failed", f"there is no order status {changes['statusId']}")
    return changes


# --- order children ---


async def list_order_items(state: StarwebState, request: Request) -> Response:
    return data([render_item(item) for item in _order(state, request)["items"]])


async def get_order_item(state: StarwebState, request: Request) -> Response:
    items = {item["itemId"]: item for item in _order(state, request)["items"]}
    return data(render_item(found(items, path_id(request, "orderItemId"), "order item")))


async def list_order_addresses(state: StarwebState, request: Request) -> Response:
    return data(dict(_order(state, request)["addresses"]))


async def get_order_address(state: StarwebState, request: Request) -> Response:
    addresses = _order(state, request)["addresses"]
    return data(found(addresses, request.path_params["addressType"], "order address"))


async def list_order_comments(state: StarwebState, request: Request) -> Response:
    return data([render_plain(state, comment) for comment in _order(state, request)["comments"]])


async def get_order_comment(state: StarwebState, request: Request) -> Response:
    comments = {comment["commentId"]: comment for comment in _order(state, request)["comments"]}
    return data(render_plain(state, found(comments, path_id(request, "commentId"), "comment")))


async def create_order_comment(state: StarwebState, request: Request) -> Response:
    order = _order(state, request)
    body = await json_body(request)
    text, author = body.get("text"), body.get("from", "admin")
    if not isinstance(text, str) or not text.strip() or author not in ("admin", "customer"):
        raise ApiError(400, "validation_failed", "text is required and from must be admin or customer")
    comment = {"commentId": state.next_id("comments"), "createdAt": state.clock(), "text": text, "from": author}
    order["comments"].append(comment)
    touch_order(state, order)
    return data(render_plain(state, comment), 201)


async def list_external_services(state: StarwebState, request: Request) -> Response:
    return data(list(_order(state, request)["externalServices"]))


def _services(order: Record) -> dict[str, Record]:
    return {service["serviceName"]: service for service in order["externalServices"]}


async def get_external_service(state: StarwebState, request: Request) -> Response:
    services = _services(_order(state, request))
    return data(found(services, request.path_params["serviceName"], "external service"))


async def create_external_service(state: StarwebState, request: Request) -> Response:
    """Record an external id on the order; `serviceName` is unique per order (spec §6)."""
    order = _order(state, request)
    service = _service_body(await json_body(request))
    if service["serviceName"] in _services(order):
        raise ApiError(400, "validation_failed", f"the order already has service {service['serviceName']!r}")
    order["externalServices"].append(service)
    touch_order(state, order)
    return data(service, 201)


async def put_external_service(state: StarwebState, request: Request) -> Response:
    order = _order(state, request)
    name = request.path_params["serviceName"]
    current = found(_services(order), name, "external service")
    current.update(_service_body({**await json_body(request), "serviceName": name}))
    touch_order(state, order)
    return data(current)


async def delete_external_service(state: StarwebState, request: Request) -> Response:
    order = _order(state, request)
    name = request.path_params["serviceName"]
    found(_services(order), name, "external service")
    order["externalServices"] = [service for service in order["externalServices"] if service["serviceName"] != name]
    touch_order(state, order)
    return Response(status_code=204)


def _service_body(body: Record) -> Record:
    name, value = body.get("serviceName"), body.get("externalIdValue")
    if not isinstance(name, str) or not name or not isinstance(value, str):
        raise ApiError(400, "validation_failed", "serviceName and externalIdValue are required texts")
    return {"serviceName": name[:TEXT_LIMIT], "externalIdValue": value[:TEXT_LIMIT], "readOnly": False}


# --- order statuses ---


async def list_order_statuses(state: StarwebState, request: Request) -> Response:
    return data([render_status(status) for status in state.order_statuses.values()])


async def get_order_status(state: StarwebState, request: Request) -> Response:
    return data(render_status(found(state.order_statuses, path_id(request, "orderStatusId"), "order status")))


async def delete_order_status(state: StarwebState, request: Request) -> Response:
    """Standard statuses (those with an idCode) cannot be deleted (403, spec §4)."""
    status_id = path_id(request, "orderStatusId")
    status = found(state.order_statuses, status_id, "order status")
    if "idCode" in status:
        raise ApiError(403, "forbidden", "standard order statuses cannot be deleted")
    if any(order["statusId"] == status_id for order in state.orders.values()):
        raise ApiError(403, "forbidden", "the status is in use by orders")
    del state.order_statuses[status_id]
    return Response(status_code=204)


# --- web hooks ---


async def list_webhooks(state: StarwebState, request: Request) -> Response:
    descending = request.query_params.get("sortOrder", "ASC") == "DESC"
    return data([dict(hook) for hook in sorted(state.webhooks.values(), key=lambda h: h["webHookId"],
                                                reverse=descending)])  # fmt: skip


async def get_webhook(state: StarwebState, request: Request) -> Response:
    return data(dict(found(state.webhooks, path_id(request, "webHookId"), "web hook")))


async def create_webhook(state: StarwebState, request: Request) -> Response:
    hook = _webhook_body(await json_body(request), required=True)
    hook["webHookId"] = state.next_id("webhooks")
    state.webhooks[hook["webHookId"]] = hook
    return data(dict(hook), 201)


async def patch_webhook(state: StarwebState, request: Request) -> Response:
    hook = found(state.webhooks, path_id(request, "webHookId"), "web hook")
    hook.update(_webhook_body(await json_body(request), required=False))
    return data(dict(hook))


async def delete_webhook(state: StarwebState, request: Request) -> Response:
    hook_id = path_id(request, "webHookId")
    found(state.webhooks, hook_id, "web hook")
    del state.webhooks[hook_id]
    return Response(status_code=204)


def _webhook_body(body: Record, required: bool) -> Record:
    """`name`, `event`, `url` (required on create) and `statusId` (order-status-changed only)."""
    hook: dict[str, Any] = {key: body[key] for key in ("name", "event", "url", "statusId") if key in body}
    if required and not {"name", "event", "url"} <= hook.keys():
        raise ApiError(400, "validation_failed", "name, event and url are required")
    if "event" in hook and hook["event"] not in WEBHOOK_EVENTS:
        raise ApiError(400, "validation_failed", f"event must be one of {', '.join(WEBHOOK_EVENTS)}")
    for key in ("name", "url"):
        if key in hook and (not isinstance(hook[key], str) or not hook[key] or len(hook[key]) > TEXT_LIMIT):
            raise ApiError(400, "validation_failed", f"{key} must be a text of 1 to {TEXT_LIMIT} characters")
    if "url" in hook and not hook["url"].startswith(("http://", "https://")):
        raise ApiError(400, "validation_failed", "url must be an http(s) address")
    status = hook.get("statusId")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int) or status < 1):
        raise ApiError(400, "validation_failed", "statusId must be a positive integer")
    return hook


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/orders", list_orders),
    ("GET", "/orders/{orderId}", get_order),
    ("PATCH", "/orders/{orderId}", patch_order),
    ("GET", "/orders/{orderId}/items", list_order_items),
    ("GET", "/orders/{orderId}/items/{orderItemId}", get_order_item),
    ("GET", "/orders/{orderId}/addresses", list_order_addresses),
    ("GET", "/orders/{orderId}/addresses/{addressType}", get_order_address),
    ("GET", "/orders/{orderId}/comments", list_order_comments),
    ("POST", "/orders/{orderId}/comments", create_order_comment),
    ("GET", "/orders/{orderId}/comments/{commentId}", get_order_comment),
    ("GET", "/orders/{orderId}/external-services", list_external_services),
    ("POST", "/orders/{orderId}/external-services", create_external_service),
    ("GET", "/orders/{orderId}/external-services/{serviceName}", get_external_service),
    ("PUT", "/orders/{orderId}/external-services/{serviceName}", put_external_service),
    ("DELETE", "/orders/{orderId}/external-services/{serviceName}", delete_external_service),
    ("GET", "/order-statuses", list_order_statuses),
    ("GET", "/order-statuses/{orderStatusId}", get_order_status),
    ("DELETE", "/order-statuses/{orderStatusId}", delete_order_status),
    ("GET", "/web-hooks", list_webhooks),
    ("POST", "/web-hooks", create_webhook),
    ("GET", "/web-hooks/{webHookId}", get_webhook),
    ("PATCH", "/web-hooks/{webHookId}", patch_webhook),
    ("DELETE", "/web-hooks/{webHookId}", delete_webhook),
]
