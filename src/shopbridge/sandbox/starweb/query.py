"""Query parameters of Starweb lists: `page`, `include`, `sortBy`/`sortOrder` and the `filter…` parameters."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from shopbridge.sandbox.starweb.state import Record


class ApiError(Exception):
    """An error answer: `{"error": code, "error_description": description}` (spec §4)."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


ORDER_SORTS: dict[str, Callable[[Record], Any]] = {
    "orderId": lambda order: order["orderId"],
    "createdAt": lambda order: (order["createdAt"], order["orderId"]),
    "modifiedAt": lambda order: (order["modifiedAt"], order["orderId"]),
    "customer": lambda order: (order["customerId"], order["orderId"]),
    "paymentMethodName": lambda order: (order["paymentMethodName"], order["orderId"]),
    "shippingMethodName": lambda order: (order["shippingMethodName"], order["orderId"]),
    "status": lambda order: (order["statusId"], order["orderId"]),
    "read": lambda order: (order["isRead"], order["orderId"]),
}
ORDER_INCLUDES = ("items", "items.bundledItems", "externalServices", "status", "customer", "addresses")
CUSTOMER_INCLUDES = ("tags", "externalServices", "addresses")
PRODUCT_INCLUDES = ("variants", "primaryVariant", "languages", "vatRates")
VARIANT_INCLUDES = ("prices", "attributeValues", "attributeValues.attribute")


def page_number(params: Mapping[str, str]) -> int:
    """`page` is 1-based with a minimum of 1 (spec §4)."""
    raw = params.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "invalid_parameter", f"page must be an integer of at least 1, got {raw[:20]!r}")
    return int(raw)


def paginate(rows: Sequence[Any], page: int, per_page: int, url: str) -> tuple[list[Any], dict[str, Any]]:
    """One page of rows and the `meta.pagination` block; a page past the end is empty, not an error.

    The block is Fractal's paginator (the shape of Starweb's envelope): `links` holds `previous` and
    `next` URLs where they exist, and is an empty JSON array, as PHP prints an empty one, where neither does.
    """
    start = (page - 1) * per_page
    chunk = list(rows[start:start + per_page])
    total_pages = max(1, math.ceil(len(rows) / per_page))
    links: dict[str, str] = {}
    if page > 1:
        links["previous"] = with_page(url, min(page - 1, total_pages))
    if page < total_pages:
        links["next"] = with_page(url, page + 1)
    meta: dict[str, Any] = {"current_page": page, "per_page": per_page, "total": len(rows), "count": len(chunk),
            "total_pages": total_pages, "links": links or []}  # fmt: skip
    return chunk, {"pagination": meta}


def with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "page"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(page))])))


def includes(params: Mapping[str, str], allowed: Sequence[str]) -> list[str]:
    """The top-level names of `include=a,b.c`; unknown names are a 400 (dotted ones embed their root here)."""
    names: list[str] = []
    for part in filter(None, (item.strip() for item in params.get("include", "").split(","))):
        if part not in allowed:
            choices = ", ".join(allowed)
            raise ApiError(400, "invalid_include", f"{part[:40]!r} cannot be included; choose from {choices}")
        root = part.split(".")[0]
        if root not in names:
            names.append(root)
    return names


def sort_order(params: Mapping[str, str], default: str) -> bool:
    """True for descending; `sortOrder` is ASC or DESC."""
    value = params.get("sortOrder", default)
    if value not in ("ASC", "DESC"):
        raise ApiError(400, "invalid_parameter", "sortOrder must be ASC or DESC")
    return value == "DESC"


def query_time(params: Mapping[str, str], name: str, timezone: str) -> datetime | None:
    """An ISO-8601 query time; one without an offset is read in the shop's time zone."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be an ISO-8601 time, got {raw[:40]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def integer_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.lstrip("-").isdigit():
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer, got {raw[:20]!r}")
    return int(raw)


def filter_orders(orders: Sequence[Record], params: Mapping[str, str], timezone: str) -> list[Record]:
    """The orders the list's filter parameters select; incomplete payments only when asked (spec §6 Order)."""
    with_incomplete = params.get("includeNonCompletePayments", "false").lower() in ("1", "true")
    after = query_time(params, "ordersCreatedAfter", timezone)
    before = query_time(params, "ordersCreatedBefore", timezone)
    status = integer_param(params, "statusFilter")
    payment = integer_param(params, "filterPaymentMethodId")
    shipping = integer_param(params, "filterShippingMethodId")
    text = params.get("filterQuery", "").strip().lower()
    return [
        order for order in orders
        if (with_incomplete or order["isComplete"])
        and (after is None or order["createdAt"] > after)
        and (before is None or order["createdAt"] < before)
        and (status is None or order["statusId"] == status)
        and (payment is None or order["paymentMethodId"] == payment)
        and (shipping is None or order["shippingMethodId"] == shipping)
        and (not text or _mentions(order, text))
    ]  # fmt: skip


def _mentions(order: Record, text: str) -> bool:
    haystack = [str(order["orderId"]), order["originalCustomerEmail"]]
    haystack += [str(address.get(key, "")) for address in order["addresses"].values() for key in
                 ("firstName", "lastName", "companyName")]  # fmt: skip
    return any(text in value.lower() for value in haystack)


def changed_since(rows: Sequence[Record], params: Mapping[str, str], timezone: str) -> list[Record]:
    """`createdSince` and `updatedSince` of the product and customer lists (inclusive, spec §8)."""
    created = query_time(params, "createdSince", timezone)
    updated = query_time(params, "updatedSince", timezone)
    return [
        row for row in rows
        if (created is None or row["createdAt"] >= created) and (updated is None or row["modifiedAt"] >= updated)
    ]  # fmt: skip


def sorted_by_id(rows: Sequence[Record], params: Mapping[str, str], key: str, default_order: str) -> list[Record]:
    """Lists whose only documented `sortBy` is their id (products ASC, customers DESC by default)."""
    if params.get("sortBy", key) != key:
        raise ApiError(400, "invalid_parameter", f"this list can only be sorted by {key}")
    return sorted(rows, key=lambda row: row[key], reverse=sort_order(params, default_order))


def sort_orders(orders: Sequence[Record], params: Mapping[str, str]) -> list[Record]:
    """`sortBy` (default orderId) and `sortOrder` (default DESC) as the orders list documents."""
    key = params.get("sortBy", "orderId")
    if key not in ORDER_SORTS:
        raise ApiError(400, "invalid_parameter", f"orders cannot be sorted by {key[:40]!r}")
    return sorted(orders, key=ORDER_SORTS[key], reverse=sort_order(params, "DESC"))
