"""The Hogia REST wire: OAuth2 client credentials, one method per remote operation, raw payloads out.

Kept small on purpose: the connector only needs these few operations, so a partner-database or
file-exchange variant of Hogia Smart can replace this class without touching translate or connector.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from shopbridge.connectors.calls import CallGate, repeating_reads
from shopbridge.connectors.hogia.paging import MAX_PAGE_SIZE, PageNumbers
from shopbridge.errors import ConfigError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "hogia"
API_VERSION = "2025-03-21"  # the newest version seen in public clients (spec §2)
TOKEN_MARGIN_SECONDS = 60.0  # renew a token this long before it runs out
logger = logging.getLogger(__name__)

# Transport failures and what they mean for us, checked in order; the one place they are translated.
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], type[ShopBridgeError]], ...] = (
    (httpx.TimeoutException, TransientError),
    (httpx.NetworkError, TransientError),
    (httpx.RemoteProtocolError, TransientError),
    (httpx.ProxyError, TransientError),
    (httpx.DecodingError, TransientError),
    (httpx.UnsupportedProtocol, ConfigError),
    (httpx.LocalProtocolError, ConfigError),
    (httpx.InvalidURL, ConfigError),
)


def dump_json(value: Any) -> bytes:
    """JSON with Decimals written as exact numbers; floats would lose öre, so they are refused."""
    return _json_text(value).encode()


def _json_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json_text(item) for item in value) + "]"
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    if isinstance(value, float | Decimal):
        raise TypeError(f"refusing to send {value!r} to Hogia (floats lose öre)")
    return json.dumps(value, ensure_ascii=False)


def describe_error_body(body: Any) -> str:
    """One line from any of the three error shapes Hogia sends (spec §2): ProblemDetails, a bare
    string, or an array of validation errors."""
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, list):
        return "; ".join(filter(None, (_validation_item(item) for item in body)))
    if not isinstance(body, Mapping):
        return ""
    text = str(body.get("detail") or body.get("title") or body.get("error_description") or body.get("error") or "")
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        fields = [f"{name}: {' '.join(map(str, messages if isinstance(messages, list) else [messages]))}"
                  for name, messages in errors.items()]  # fmt: skip
        text = f"{text} {'; '.join(fields)}".strip()
    return text


def _validation_item(item: Any) -> str:
    if isinstance(item, Mapping):
        field = item.get("propertyName") or item.get("field") or ""
        message = item.get("errorMessage") or item.get("message") or ""
        return f"{field}: {message}" if field else str(message)
    return str(item)


def retry_after_seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


class HogiaClient:
    """Hogia's cloud REST API for one organisation over an injected `httpx.AsyncClient`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        organization_id: str,
        api_version: str = API_VERSION,
        page_size: int = MAX_PAGE_SIZE,
        gate: CallGate | None = None,
    ) -> None:
        self._http = http
        self.gate = gate if gate is not None else CallGate(SYSTEM, ())
        self._api = f"{base_url.rstrip('/')}/{organization_id}"
        self._token_url = token_url
        self._credentials = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._secrets = tuple(secret for secret in (client_secret,) if secret)
        self.api_version = api_version
        self.page_size = page_size
        self._token: str = ""
        self._token_expires = 0.0

    async def list_vat_codes(self) -> list[dict[str, Any]]:
        return await self._list("/vatcodes", {})

    async def find_contacts(self, **filters: str) -> list[dict[str, Any]]:
        """Contacts matching every filter (`number`, `email`, `identificationNumber`)."""
        return await self._list("/contacts", filters)

    async def create_contact(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/contacts", body=body)

    async def find_articles(self, number: str) -> list[dict[str, Any]]:
        return await self._list("/articles", {"number": number})

    async def find_invoices(self, external_reference: str) -> list[dict[str, Any]]:
        return await self._list("/customerinvoices", {"externalReference": external_reference})

    async def create_invoice(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call("POST", "/customerinvoices", body=body)

    async def book_invoice(self, invoice_id: str) -> dict[str, Any]:
        return await self._call("POST", f"/customerinvoices/{invoice_id}/book")

    async def delete_invoice(self, invoice_id: str) -> None:
        await self._call("DELETE", f"/customerinvoices/{invoice_id}")

    async def _list(self, path: str, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        pages, items = PageNumbers(self.page_size), []
        while pages.params is not None:
            payload = await self._call("GET", path, params={**filters, **pages.params})
            found = [item for item in payload.get("items") or [] if isinstance(item, dict)]
            items += found
            pages.advance(payload, len(found))
        return items

    async def _call(
        self, method: str, path: str, params: Mapping[str, str] | None = None, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """An API call with a bearer token; a token refused once is renewed and the call repeated;
        a failed read is sent again."""
        operation = f"{method} {path}"
        query = {**(params or {}), "api-version": self.api_version}
        content = dump_json(body) if body is not None else None

        async def attempt() -> dict[str, Any]:
            for try_number in (1, 2):
                headers = {"Authorization": f"Bearer {await self._access_token()}", "Accept": "application/json"}
                if content is not None:
                    headers["Content-Type"] = "application/json"
                response = await self._send(method, self._api + path, operation, params=query, content=content,
                                            headers=headers)  # fmt: skip
                if response.status_code != 401 or try_number == 2:
                    break
                self._token = ""  # revoked or expired early: one fresh token, then the 401 stands
            return self._payload(response, operation)

        return await repeating_reads(attempt, repeatable=method == "GET")

    async def _access_token(self) -> str:
        """The cached token, or a new one from the token endpoint (spec §2, Auth)."""
        if self._token and time.monotonic() < self._token_expires:
            return self._token
        response = await self._send("POST", self._token_url, "POST token", data=self._credentials)
        if response.status_code in (400, 401):
            raise ConfigError("Hogia refused the client id and secret: " + self._describe(response),
                              system=SYSTEM, operation="POST token", status=response.status_code)  # fmt: skip
        payload = self._payload(response, "POST token")
        token, lifetime = payload.get("access_token"), payload.get("expires_in", 0)
        if not isinstance(token, str) or not token:
            raise ConfigError("the token endpoint answered without an access_token", system=SYSTEM)
        self._token = token
        seconds = float(lifetime) if isinstance(lifetime, int | Decimal) else 0.0  # unknown: use it for one call
        self._token_expires = time.monotonic() + max(0.0, seconds - TOKEN_MARGIN_SECONDS)
        return token

    async def _send(
        self,
        method: str,
        url: str,
        operation: str,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Every request to Hogia goes through here, counted and paced by the shared rate budget."""
        await self.gate.enter(operation)
        try:
            response = await self._http.request(method, url, params=params, content=content, data=data,
                                                headers=headers)  # fmt: skip
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise self._transport_error(error, operation) from None
        logger.debug("hogia %s -> %s", operation, response.status_code)
        if response.status_code == 429:
            await self.gate.refused(retry_after_seconds(response.headers.get("retry-after")))
        return response

    def _payload(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        if response.status_code >= 400:
            raise self._status_error(response, operation)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            payload = json.loads(response.content, parse_float=Decimal)
        except ValueError:
            # A write may have committed before the answer was cut short; the lookup by
            # reference before any create makes the retry safe.
            excerpt = self._scrub(response.text)
            raise TransientError("Hogia's answer was cut short or is not JSON", system=SYSTEM, operation=operation,
                                 status=response.status_code, body_excerpt=excerpt) from None  # fmt: skip
        if not isinstance(payload, dict):
            raise TransientError("Hogia answered with JSON that is not an object", system=SYSTEM, operation=operation)
        return payload

    def _status_error(self, response: httpx.Response, operation: str) -> ShopBridgeError:
        message = self._describe(response) or f"Hogia answered HTTP {response.status_code}"
        kind = error_for_status(response.status_code)
        fields: dict[str, Any] = {"system": SYSTEM, "operation": operation, "status": response.status_code}
        if issubclass(kind, TransientError):
            fields["retry_after"] = retry_after_seconds(response.headers.get("retry-after"))
        return kind(message, body_excerpt=self._scrub(response.text), **fields)

    def _describe(self, response: httpx.Response) -> str:
        try:
            return self._scrub(describe_error_body(json.loads(response.text)))
        except ValueError:
            return ""

    def _transport_error(self, error: Exception, operation: str) -> ShopBridgeError:
        kind = next((mapped for exc_type, mapped in _TRANSPORT_ERRORS if isinstance(error, exc_type)), TransientError)
        reason = self._scrub(str(error)) or type(error).__name__
        return kind(f"{type(error).__name__}: {reason}", system=SYSTEM, operation=operation)

    def _scrub(self, text: str) -> str:
        for secret in (*self._secrets, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text

