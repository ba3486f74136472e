"""The PrestaShop webservice on the wire: one method per remote call, JSON payloads out.

Every transport failure and every HTTP error becomes a `shopbridge.errors` error in `_send`,
the one place that talks to httpx. The webservice key only ever travels in the Authorization
header (spec §2), and is blanked from anything an error carries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from lxml import etree

from shopbridge.connectors.calls import CallGate
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "prestashop"
Payload = dict[str, Any]
Params = Mapping[str, str]

ORDER_SUMMARY_DISPLAY = "[id,current_state,date_upd,id_shop]"
ORDER_SORT = "[date_upd_ASC,id_ASC]"
REMOTE_MESSAGE_LIMIT = 300
REFERENCE_RESOURCES = {"country": "countries", "currency": "currencies", "carrier": "carriers"}
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class PrestaShopClient:
    """Calls `{shop}/api/` with Basic auth (key as user, empty password) and JSON output."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, key: str, shop_id: int | None = None, gate: CallGate | None = None
    ) -> None:
        self._http = http
        self.gate = gate if gate is not None else CallGate(SYSTEM, ())
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._auth = httpx.BasicAuth(key, "")
        self._key = key
        self._shop_id = shop_id

    # --- orders ---

    async def list_orders(self, updated_since: str, updated_until: str, offset: int, limit: int) -> list[Payload]:
        """Order summaries changed in the inclusive wall-clock range, oldest first (spec §4, §4.1)."""
        params = {
            "date": "1",
            "filter[date_upd]": f"[{updated_since},{updated_until}]",
            "sort": ORDER_SORT,
            "display": ORDER_SUMMARY_DISPLAY,
            "limit": f"{offset},{limit}",
        }
        return rows(await self._get("orders", "list_orders", params), "orders")

    async def list_order_ids(self, offset: int, limit: int) -> list[Payload]:
        """Bare order ids; cheap enough to prove the key may read orders."""
        params = {"display": "[id]", "limit": f"{offset},{limit}"}
        return rows(await self._get("orders", "list_order_ids", params), "orders")

    async def get_orders(self, ids: Callable[[], list[int]]) -> dict[int, Payload]:
        """Orders by id, as many as `ids()` names when the call goes out (see `_get_records`)."""
        return await self._get_records("orders", "order", ids)

    async def list_details_of_orders(self, order_ids: Callable[[], list[int]]) -> dict[int, list[Payload]]:
        """The lines of each order `order_ids()` names when the call goes out, in one call:
        `filter[id_order]=[1|2|3]` (spec §4); an order without lines maps to []."""

        def target() -> tuple[str, Params]:
            return "order_details", {"filter[id_order]": _any_of(order_ids()), "display": "full"}

        found = rows(await self._get_from(target, "list_order_details"), "order_details")
        lines: dict[int, list[Payload]] = {number: [] for number in order_ids()}
        for row in found:
            number = _row_id(row, "id_order")
            if number in lines:
                lines[number].append(row)
        return lines

    async def list_order_histories(self, order_id: int) -> list[Payload]:
        """Every state change of one order, oldest first (spec §8.1, order_histories)."""
        params = {"filter[id_order]": f"[{int(order_id)}]", "display": "[id,id_order_state]", "sort": "[id_ASC]"}
        return rows(await self._get("order_histories", "list_order_histories", params), "order_histories")

    async def list_histories_of_orders(self, order_ids: list[int]) -> list[Payload]:
        """The state changes of several orders in one call: `filter[id_order]=[1|2|3]` (spec §4)."""
        params = {"filter[id_order]": _any_of(order_ids), "display": "[id,id_order,id_order_state]", "sort": "[id_ASC]"}
        return rows(await self._get("order_histories", "list_order_histories", params), "order_histories")

    async def list_order_states(self) -> list[Payload]:
        return rows(await self._get("order_states", "list_order_states", {"display": "full"}), "order_states")

    async def add_order_history(self, order_id: int, state_id: int, send_email: bool = False) -> Payload:
        """Move an order to another state the way the back office does (spec §8.1)."""
        body = (
            "<prestashop><order_history>"
            f"<id_order>{int(order_id)}</id_order><id_order_state>{int(state_id)}</id_order_state>"
            "</order_history></prestashop>"
        )
        params = {"sendemail": "1"} if send_email else {}
        response = await self._send("POST", "order_histories", "add_order_history", params, body.encode())
        return entity(self._json(response, "add_order_history"), "order_history")

    # --- records an order points to ---

    async def get_customers(self, ids: Callable[[], list[int]]) -> dict[int, Payload]:
        return await self._get_records("customers", "customer", ids)

    async def get_addresses(self, ids: Callable[[], list[int]]) -> dict[int, Payload]:
        return await self._get_records("addresses", "address", ids)

    async def get_country(self, country_id: int) -> Payload:
        return await self._get_entity("countries", "country", country_id)

    async def get_currency(self, currency_id: int) -> Payload:
        return await self._get_entity("currencies", "currency", currency_id)

    async def get_carrier(self, carrier_id: int) -> Payload:
        return await self._get_entity("carriers", "carrier", carrier_id)

    async def get_reference(self, node: str, record_id: int) -> Payload:
        """One record of reference data by its node name: `country`, `currency` or `carrier`."""
        return await self._get_entity(REFERENCE_RESOURCES[node], node, record_id)

    # --- the wire ---

    async def _get_entity(self, resource: str, node: str, entity_id: int) -> Payload:
        return entity(await self._get(f"{resource}/{int(entity_id)}", f"get_{node}"), node)

    async def _get_records(self, resource: str, node: str, ids: Callable[[], list[int]]) -> dict[int, Payload]:
        """Records by id in one call, the ids fixed by `ids()` when it goes out: `{resource}/{id}`
        for one, as every client reads a single record, or a full list filtered `[1|2|3]` for
        several (spec §3.2: the same fields, under the plural node). An id the shop does not have
        (or shows in another shop's context) is absent from the answer."""

        def target() -> tuple[str, Params]:
            wanted = ids()
            if len(wanted) == 1:
                return f"{resource}/{int(wanted[0])}", {}
            return resource, {"filter[id]": _any_of(wanted), "display": "full"}

        payload = await self._get_from(target, f"get_{node}")
        wanted = ids()
        if len(wanted) == 1:
            return {wanted[0]: entity(payload, node)}
        return {_row_id(row, "id"): row for row in rows(payload, resource)}

    async def _get(self, path: str, operation: str, params: Params | None = None) -> Any:
        return await self._get_from(lambda: (path, params or {}), operation)

    async def _get_from(self, target: Callable[[], tuple[str, Params]], operation: str) -> Any:
        response = await self._send_to("GET", target, operation, None)
        return self._json(response, operation)

    async def _send(self, method: str, path: str, operation: str, params: Params, body: bytes | None) -> httpx.Response:
        return await self._send_to(method, lambda: (path, params), operation, body)

    async def _send_to(
        self, method: str, target: Callable[[], tuple[str, Params]], operation: str, body: bytes | None
    ) -> httpx.Response:
        """The only call into httpx: counted by purpose, paced by the account's budget, a failed
        read sent again, errors mapped. `target()` gives the path and parameters when the call goes
        out, after the wait for the budget (a joined read's ids are fixed then)."""
        headers = {"Content-Type": "text/xml"} if body is not None else {}

        async def attempt() -> httpx.Response:
            path, params = target()
            query = {"output_format": "JSON", **params}
            if self._shop_id is not None:
                query["id_shop"] = str(self._shop_id)
            return await self._send_once(method, path, operation, query, body, headers)

        return await self.gate.send(operation, attempt, repeatable=method == "GET")

    async def _send_once(
        self, method: str, path: str, operation: str, query: Params, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method, self._base_url + path, params=query, content=body, headers=headers, auth=self._auth
            )
        except httpx.UnsupportedProtocol as exc:
            raise ConfigError(self._scrub(f"the shop URL is not http(s): {exc}"), SYSTEM, operation) from exc
        except httpx.RequestError as exc:
            # Timeouts, refused connections and connections dropped mid-response alike.
            message = self._scrub(f"{method} {path} failed: {type(exc).__name__}: {exc}")
            raise TransientError(message, SYSTEM, operation) from exc
        if not response.is_success:
            error = self._status_error(response, method, path, operation)
            if response.status_code == 429:
                await self.gate.refused(getattr(error, "retry_after", None))
            raise error
        return response

    def _status_error(self, response: httpx.Response, method: str, path: str, operation: str) -> ShopBridgeError:
        """The error class comes from the shared status table; the text from PrestaShop's body."""
        status = response.status_code
        reason = remote_message(response.text) or response.reason_phrase or "no message"
        if response.is_redirect:
            reason = f"redirected to {response.headers.get('location', '?')}; use the final shop URL"
        message = self._scrub(f"{method} {path} answered {status}: {reason}")
        error_class = error_for_status(status)
        excerpt = self._scrub(response.text)
        if issubclass(error_class, TransientError):
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            return error_class(message, SYSTEM, operation, status, excerpt, retry_after=retry_after)
        return error_class(message, SYSTEM, operation, status, excerpt)

    def _json(self, response: httpx.Response, operation: str) -> Any:
        try:
            return response.json()
        except ValueError:
            excerpt = self._scrub(response.text)
            raise DataError("the response is not JSON", SYSTEM, operation, response.status_code, excerpt) from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text


def _any_of(ids: list[int]) -> str:
    """A filter value matching any of the ids: `[1|2|3]` (spec §4)."""
    return "[" + "|".join(str(int(record_id)) for record_id in ids) + "]"


def _row_id(row: Payload, field: str) -> int:
    """A list row's id field as an int; -1 (matching no id asked for) when it is not one."""
    value = str(row.get(field, ""))
    return int(value) if value.isascii() and value.isdigit() else -1


# --- response shapes (spec §3.2) ---


def rows(payload: Any, node: str) -> list[Payload]:
    """The records of a list response: `{"<node>": [...]}`, or a bare `[]` when it is empty."""
    if payload == []:
        return []
    if isinstance(payload, dict) and isinstance(payload.get(node), list):
        records: list[Any] = payload[node]
        if all(isinstance(record, dict) for record in records):
            return records
    raise DataError(f"expected a list of {node}, got {_shape(payload)}", SYSTEM, f"list_{node}")


def entity(payload: Any, node: str) -> Payload:
    """The record of a single GET: `{"<node>": {...}}`."""
    if isinstance(payload, dict) and isinstance(payload.get(node), dict):
        record: Payload = payload[node]
        return record
    raise DataError(f"expected one {node}, got {_shape(payload)}", SYSTEM, f"get_{node}")


def _shape(payload: Any) -> str:
    if isinstance(payload, dict):
        return "an object with keys " + ", ".join(sorted(str(key) for key in payload)[:5])
    return type(payload).__name__


# --- error bodies (spec §3.1, §3.2, §6) ---


def remote_message(body: str) -> str:
    """PrestaShop's own `[code] message` list from a JSON or XML error body, else its first line."""
    stripped = body.strip()
    if not stripped:
        return ""
    if stripped.startswith("<"):
        found = _xml_errors(stripped)
    elif stripped.startswith(("{", "[")):
        found = _json_errors(stripped)
    else:
        found = stripped.splitlines()[0]
    return found[:REMOTE_MESSAGE_LIMIT]


def _json_errors(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    errors = data.get("errors")
    if isinstance(errors, list):
        return "; ".join(_coded(item.get("code"), item.get("message")) for item in errors if isinstance(item, dict))
    return str(data.get("message") or data.get("error") or "")


def _xml_errors(body: str) -> str:
    try:
        root = etree.fromstring(body.encode(), parser=_SAFE_XML)
    except etree.XMLSyntaxError:
        return ""
    if root is None:
        return ""
    return "; ".join(_coded(error.findtext("code"), error.findtext("message")) for error in root.iter("error"))


def _coded(code: object, message: object) -> str:
    text = str(message or "").strip()
    return f"[{code}] {text}" if code not in (None, "") else text


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds to wait: either a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
