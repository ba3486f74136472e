"""The e-conomic REST wire: one method per remote operation, raw payloads out."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from shopbridge.connectors.calls import CallGate
from shopbridge.connectors.economic.paging import MAX_PAGE_SIZE, NextPageLinks
from shopbridge.errors import ConfigError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "economic"
logger = logging.getLogger(__name__)

# Spec §3, "ID encoding in URLs". `_` goes first so that the underscores the other
# substitutions write are not encoded a second time.
_ID_SUBSTITUTIONS = (
    ("_", "_8_"), ("<", "_0_"), (">", "_1_"), ("*", "_2_"), ("%", "_3_"), (":", "_4_"), ("&", "_5_"),
    ("/", "_6_"), ("\\", "_7_"), (" ", "_9_"), ("?", "_10_"), (".", "_11_"), ("#", "_12_"), ("+", "_13_"),
)  # fmt: skip
# Spec §3, "Filtering": characters that must be escaped inside a filter value; `$` first.
_FILTER_ESCAPES = (("$", "$$"), ("(", "$("), (")", "$)"), ("*", "$*"), (",", "$,"), ("[", "$["), ("]", "$]"))

# Transport failures and what they mean for us, checked in order; like httpx's own mapping of
# httpcore's exceptions, this is the one place they are translated.
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], type[ShopBridgeError]], ...] = (
    (httpx.TimeoutException, TransientError),
    (httpx.NetworkError, TransientError),
    (httpx.RemoteProtocolError, TransientError),  # connection dropped mid-response
    (httpx.ProxyError, TransientError),
    (httpx.DecodingError, TransientError),
    (httpx.UnsupportedProtocol, ConfigError),
    (httpx.LocalProtocolError, ConfigError),
    (httpx.InvalidURL, ConfigError),
)


def encode_product_number(number: str) -> str:
    """A product number as it must appear in a URL path (spec §3)."""
    for raw, encoded in _ID_SUBSTITUTIONS:
        number = number.replace(raw, encoded)
    return quote(number, safe="")


def escape_filter_value(value: str) -> str:
    """A literal for the right-hand side of a filter such as `references.other$eq:` (spec §3)."""
    for raw, escaped in _FILTER_ESCAPES:
        value = value.replace(raw, escaped)
    return value


def dump_json(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers; e-conomic rejects nulls, so None is refused."""
    return _json_text(value).encode()


def _json_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json_text(item) for item in value) + "]"
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if value is None or isinstance(value, float | Decimal):
        raise TypeError(f"refusing to send {value!r} to e-conomic (nulls are rejected; floats lose cents)")
    return json.dumps(value)


def flatten_annotated_errors(node: Any, path: str = "") -> list[str]:
    """Readable lines such as `lines[1].product: No identifiers… (E04500)` from spec §4's errors."""
    if isinstance(node, list):
        lines: list[str] = []
        for position, item in enumerate(node):
            index = item.get("arrayIndex", position) if isinstance(item, Mapping) else position
            lines += flatten_annotated_errors(item, f"{path}[{index}]")
        return lines
    if not isinstance(node, Mapping):
        return []
    lines = []
    for key, value in node.items():
        if key == "errors" and isinstance(value, list):
            lines += [_error_line(path or "document", error) for error in value if isinstance(error, Mapping)]
        elif key != "arrayIndex":
            lines += flatten_annotated_errors(value, f"{path}.{key}" if path else str(key))
    return lines


def _error_line(path: str, error: Mapping[str, Any]) -> str:
    details = ", ".join(part for part in (str(error.get("errorCode", "")), _value_note(error)) if part)
    return f"{path}: {error.get('message', 'invalid')}" + (f" ({details})" if details else "")


def _value_note(error: Mapping[str, Any]) -> str:
    return f"value {error['value']}" if "value" in error else ""


def describe_error_body(body: Any) -> str:
    """The message, hint and annotated errors of an e-conomic error body, in one line."""
    if not isinstance(body, Mapping):
        return ""
    text = str(body.get("message", "")).strip()
    hint = str(body.get("developerHint", "")).strip()
    if hint:
        text = f"{text} ({hint})" if text else hint
    details = flatten_annotated_errors(body.get("errors"))
    return f"{text}: {'; '.join(details)}" if details else text


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds, whether sent as a number or as an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class EconomicClient:
    """e-conomic's Legacy REST API over an injected `httpx.AsyncClient` (spec §2–§6)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        app_secret_token: str,
        agreement_grant_token: str,
        page_size: int = MAX_PAGE_SIZE,
        gate: CallGate | None = None,
    ) -> None:
        self._http = http
        self.gate = gate if gate is not None else CallGate("economic", ())
        self.page_size = page_size
        self._base_url = base_url.rstrip("/")
        self._secrets = tuple(secret for secret in (app_secret_token, agreement_grant_token) if secret)
        self._headers = {
            "X-AppSecretToken": app_secret_token,
            "X-AgreementGrantToken": agreement_grant_token,
            "Accept": "application/json",
        }

    async def get_self(self) -> dict[str, Any]:
        return await self._request("GET", "/self", purpose="get_self")

    async def iter_collection(
        self, path: str, filter: str | None = None, sort: str | None = None, purpose: str = "list"
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a collection, page after page until `nextPage` is absent (spec §3)."""
        pages = NextPageLinks(self.page_size, filter, sort)
        while pages.params is not None:
            payload = await self._request("GET", path, params=pages.params, purpose=purpose)
            for item in payload.get("collection") or []:
                yield item
            pages.advance(payload)

    async def find_customers(self, filter: str) -> list[dict[str, Any]]:
        return [item async for item in self.iter_collection("/customers", filter, purpose="find_customers")]

    async def create_customer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/customers", body=body, purpose="create_customer")

    async def get_product(self, number: str) -> dict[str, Any] | None:
        """The product, or None when e-conomic has none with that number."""
        try:
            return await self._request("GET", f"/products/{encode_product_number(number)}", purpose="get_product")
        except ShopBridgeError as error:
            if error.status == 404:
                return None
            raise

    async def get_customer(self, number: int) -> dict[str, Any] | None:
        """The customer, or None when e-conomic has none with that number (deleted or merged)."""
        try:
            return await self._request("GET", f"/customers/{number}", purpose="get_customer")
        except ShopBridgeError as error:
            if error.status == 404:
                return None
            raise

    async def delete_document(self, collection: str, number: int) -> None:
        await self._request("DELETE", f"/{collection.strip('/')}/{number}", purpose="delete_document")

    async def create_order_draft(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/orders/drafts", body=body, purpose="create_order_draft")

    async def create_invoice_draft(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/invoices/drafts", body=body, purpose="create_invoice_draft")

    async def book_invoice(self, draft_number: int, book_with_number: int | None = None) -> dict[str, Any]:
        """Book a draft invoice (spec §6, booking request body)."""
        body: dict[str, Any] = {"draftInvoice": {"draftInvoiceNumber": draft_number}}
        if book_with_number is not None:
            body["bookWithNumber"] = book_with_number
        return await self._request("POST", "/invoices/booked", body=body, purpose="book_invoice")

    async def find_documents(self, collection: str, reference: str) -> list[dict[str, Any]]:
        """Documents in `collection` (e.g. `invoices/booked`) whose `references.other` is `reference`."""
        filter = f"references.other$eq:{escape_filter_value(reference)}"
        path = f"/{collection.strip('/')}"
        return [item async for item in self.iter_collection(path, filter, purpose="find_documents")]

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        purpose: str = "call",
    ) -> dict[str, Any]:
        """The only call into httpx: counted, paced by the account's budget, a failed read sent
        again, errors mapped."""
        operation = f"{method} {path}"
        headers = dict(self._headers)
        content = None
        if body is not None:
            content = dump_json(body)
            headers["Content-Type"] = "application/json"

        async def attempt() -> dict[str, Any]:
            try:
                response = await self._http.request(
                    method, self._base_url + path, params=params, content=content, headers=headers
                )
            except (httpx.HTTPError, httpx.InvalidURL) as error:
                raise self._transport_error(error, operation) from None
            logger.debug("e-conomic %s -> %s", operation, response.status_code)
            if response.status_code >= 400:
                refusal = self._status_error(response, operation)
                if response.status_code == 429:
                    await self.gate.refused(getattr(refusal, "retry_after", None))
                raise refusal
            return self._payload(response, operation)

        return await self.gate.send(purpose, attempt, repeatable=method == "GET")

    def _transport_error(self, error: Exception, operation: str) -> ShopBridgeError:
        kind: type[ShopBridgeError] = TransientError
        for exception_type, mapped in _TRANSPORT_ERRORS:
            if isinstance(error, exception_type):
                kind = mapped
                break
        reason = self._scrub(str(error)) or type(error).__name__
        return kind(f"{type(error).__name__}: {reason}", system=SYSTEM, operation=operation)

    def _status_error(self, response: httpx.Response, operation: str) -> ShopBridgeError:
        text = self._scrub(response.text)
        try:
            described = describe_error_body(json.loads(text))
        except ValueError:
            described = ""
        message = described or f"e-conomic answered HTTP {response.status_code}"
        kind = error_for_status(response.status_code)
        fields: dict[str, Any] = {"system": SYSTEM, "operation": operation, "status": response.status_code}
        if issubclass(kind, TransientError):
            fields["retry_after"] = retry_after_seconds(response.headers.get("retry-after"))
        return kind(self._scrub(message), body_excerpt=text, **fields)

    def _payload(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        if response.status_code == 204 or not response.content:
            return {}
        try:
            payload = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            # A write may have committed before the answer was cut short: retrying is safe
            # because every create is preceded by a lookup of its reference.
            raise TransientError(
                "e-conomic's answer was cut short or is not JSON",
                system=SYSTEM,
                operation=operation,
                status=response.status_code,
                body_excerpt=self._scrub(response.text),
            ) from None
        if not isinstance(payload, dict):
            raise TransientError(
                "e-conomic answered with JSON that is not an object", system=SYSTEM, operation=operation
            )
        return payload

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text
