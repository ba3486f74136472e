"""Norce Commerce on the wire: identity token, Query 2.0 and Connect 4.0, one method per remote call.

Every request leaves through `_send`, the one place that talks to httpx and turns transport
failures and HTTP errors into `shopbridge.errors`. The bearer token is fetched with client
credentials (spec §1), cached, and refreshed a minute before it expires; a 401 on a cached token
fetches one new token and tries once more. The client secret and tokens are blanked from errors.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from shopbridge.connectors.calls import CallGate
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "norce"
Payload = dict[str, Any]
TOKEN_PATH = "identity/1.0/connect/token"
QUERY = "commerce/query/2.0/"
CONNECT = "commerce/connect/4.0/"
REFRESH_MARGIN_SECONDS = 60.0
# Token endpoint answers that mean the credentials or environment are wrong (OAuth 2 error codes).
TOKEN_CONFIG_ERRORS = frozenset({"invalid_client", "invalid_scope", "unauthorized_client", "invalid_grant"})


class NorceClient:
    """Calls `{base}/commerce/...` with a bearer token and the `applicationId` context header."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        environment: str,
        clock: Callable[[], float] = time.monotonic,
        gate: CallGate | None = None,
    ) -> None:
        self._http = http
        self.gate = gate if gate is not None else CallGate(SYSTEM, ())
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._client_id = client_id
        self._secret = client_secret
        self._environment = environment
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    # --- Query (spec §2b) ---

    async def query_orders(self, application_id: int, params: Mapping[str, str]) -> Payload:
        """One page of `Orders/Orders`: `{"value": [...], "@odata.nextLink": ...}`."""
        return await self._query(self._base + QUERY + "Orders/Orders", application_id, "list_orders", params)

    async def follow(self, application_id: int, next_link: str) -> Payload:
        """The page an `@odata.nextLink` points to; only ever on the Norce host (the token goes with it)."""
        if urlsplit(next_link).netloc != urlsplit(self._base).netloc:
            raise ConfigError(f"nextLink leaves the Norce host: {next_link[:80]}", SYSTEM, "list_orders")
        return await self._query(next_link, application_id, "list_orders", None)

    async def lookup(self, application_id: int, entity: str) -> list[Payload]:
        """A tenant-wide code table such as `Core/Currencies` (spec §2b)."""
        page = await self._query(self._base + QUERY + entity, application_id, f"get_{entity}", None)
        return rows(page, f"get_{entity}")

    # --- Connect (spec §3) ---

    async def send_order_status(self, body: Payload) -> None:
        url = self._base + CONNECT + "Order/SendOrderStatus"
        await self._authorized("POST", url, "send_order_status", json_body=body)

    # --- token ---

    async def token(self) -> str:
        """The cached bearer token, fetched again a minute before it runs out."""
        async with self._token_lock:
            if self._token is None or self._clock() >= self._token_expires - REFRESH_MARGIN_SECONDS:
                self._token, lifetime = await self._fetch_token()
                self._token_expires = self._clock() + lifetime
            return self._token

    def forget_token(self) -> None:
        self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials", "client_id": self._client_id,
                "client_secret": self._secret, "scope": self._environment}  # fmt: skip
        response = await self._send("POST", self._base + TOKEN_PATH, "token", form=form)
        answer = self._json(response, "token")
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise DataError("the token answer has no access_token", SYSTEM, "token", response.status_code)
        lifetime = answer.get("expires_in", 3600)
        return token, float(lifetime) if isinstance(lifetime, int | Decimal) and lifetime > 0 else 3600.0

    # --- the wire ---

    async def _query(self, url: str, application_id: int, operation: str, params: Mapping[str, str] | None) -> Payload:
        headers = {"applicationId": str(int(application_id))}
        response = await self._authorized("GET", url, operation, params=params, headers=headers)
        page = self._json(response, operation)
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise DataError("expected an OData page with a value list", SYSTEM, operation, response.status_code)
        return page

    async def _authorized(
        self, method: str, url: str, operation: str, *, params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None, json_body: Payload | None = None,
    ) -> httpx.Response:  # fmt: skip
        """A call with the bearer token; a token refused early (server restarted, revoked) is replaced once."""

        async def send() -> httpx.Response:
            auth = {"Authorization": f"Bearer {await self.token()}", **(headers or {})}
            return await self._send(method, url, operation, params=params, headers=auth, json_body=json_body)

        try:
            return await send()
        except ConfigError as exc:
            if exc.status != 401:
                raise
        self.forget_token()
        return await send()

    async def _send(
        self, method: str, url: str, operation: str, *, params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None, json_body: Payload | None = None,
        form: Mapping[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        """The only call into httpx: every failure leaves here as a ShopBridgeError; a failed read
        is sent again."""

        async def attempt() -> httpx.Response:
            return await self._send_once(method, url, operation, params, headers, json_body, form)

        return await self.gate.send(operation, attempt, repeatable=method == "GET")

    async def _send_once(
        self, method: str, url: str, operation: str, params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None, json_body: Payload | None, form: Mapping[str, str] | None,
    ) -> httpx.Response:  # fmt: skip
        try:
            response = await self._http.request(
                method, url, params=params, headers=headers, json=json_body, data=form
            )
        except httpx.UnsupportedProtocol as exc:
            raise ConfigError(self._scrub(f"the Norce URL is not http(s): {exc}"), SYSTEM, operation) from exc
        except httpx.RequestError as exc:
            message = self._scrub(f"{method} {urlsplit(url).path} failed: {type(exc).__name__}: {exc}")
            raise TransientError(message, SYSTEM, operation) from exc
        if not response.is_success:
            error = self._status_error(response, method, url, operation)
            if response.status_code == 429:
                await self.gate.refused(getattr(error, "retry_after", None))
            raise error
        return response

    def _status_error(self, response: httpx.Response, method: str, url: str, operation: str) -> ShopBridgeError:
        status = response.status_code
        reason = remote_message(response.text) or response.reason_phrase or "no message"
        message = self._scrub(f"{method} {urlsplit(url).path} answered {status}: {reason}")
        error_class = error_for_status(status)
        if operation == "token" and status in (400, 401) and (status == 401 or reason in TOKEN_CONFIG_ERRORS):
            error_class = ConfigError  # wrong client id, secret or environment: no retry will help
        excerpt = self._scrub(response.text)
        if issubclass(error_class, TransientError):
            wait = retry_after_seconds(response.headers.get("retry-after"))
            return error_class(message, SYSTEM, operation, status, excerpt, retry_after=wait)
        return error_class(message, SYSTEM, operation, status, excerpt)

    def _json(self, response: httpx.Response, operation: str) -> Any:
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            excerpt = self._scrub(response.text)
            raise DataError("the response is not JSON", SYSTEM, operation, response.status_code, excerpt) from None

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._token):
            if secret:
                text = text.replace(secret, "***")
        return text


def rows(page: Payload, operation: str) -> list[Payload]:
    records = page.get("value")
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise DataError("expected a list of objects in value", SYSTEM, operation)
    return records


def remote_message(body: str) -> str:
    """The OAuth `error`, the OData `error.message`, or the first line of a text body."""
    stripped = body.strip()
    try:
        data = json.loads(stripped) if stripped.startswith("{") else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or "")[:300]
        return str(error or data.get("message") or data.get("Description") or "")[:300]
    return stripped.splitlines()[0][:300] if stripped else ""


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds to wait: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None
