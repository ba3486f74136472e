"""The Starweb Shop API v2 on the wire: one method per remote call, JSON payloads out.

Every request, the token request included, goes through `_send`, the one place that talks to
httpx and turns transport failures and HTTP errors into `shopbridge.errors` errors. The access
token is fetched with the client-credentials grant, renewed before it expires, and once more
when the API answers 401 `invalid_token` (as Starweb's own SDK does, spec §2, §9).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shopbridge.connectors.calls import CallGate
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "starweb"
Payload = dict[str, Any]
Params = Mapping[str, str]

ORDER_INCLUDE = "items,addresses,status,customer"
# Renew this long before the stated expiry, so a token never dies between check and use.
TOKEN_MARGIN = timedelta(seconds=60)
# Spec §3: Starweb's SDK waits 5 s when rate limited; no Retry-After header is documented.
RATE_LIMIT_WAIT = 5.0
RATE_LIMIT_ERROR = "Too Many Requests"
MESSAGE_LIMIT = 300


@dataclass
class AccessToken:
    value: str
    expires_at: datetime

    def fresh(self, now: datetime) -> bool:
        return now + TOKEN_MARGIN < self.expires_at


class StarwebClient:
    """Calls `{shop}/api/v2` with a Bearer token from `POST /token`."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, client_id: str, client_secret: str, gate: CallGate | None = None
    ) -> None:
        self._http = http
        self.gate = gate if gate is not None else CallGate(SYSTEM, ())
        self._base_url = base_url.rstrip("/") + "/"
        self._client_id = client_id
        self._secret = client_secret
        self._token: AccessToken | None = None
        self._token_lock = asyncio.Lock()

    # --- orders (spec §5 /orders) ---

    async def list_orders_by_modification(self, page: int) -> Any:
        """One page of complete orders, the most recently modified first, with `meta.pagination`."""
        params = {"sortBy": "modifiedAt", "sortOrder": "DESC", "page": str(int(page))}
        return await self._get("orders", "list_orders", params)

    async def get_order(self, order_id: int) -> Payload:
        """One order with its items, addresses, status and customer in one call."""
        payload = await self._get(f"orders/{int(order_id)}", "get_order", {"include": ORDER_INCLUDE})
        return item(payload, "get_order")

    async def get_shop(self) -> Payload:
        return item(await self._get("shop", "get_shop"), "get_shop")

    # --- the wire ---

    async def _get(self, path: str, operation: str, params: Params | None = None) -> Any:
        response = await self._authorised("GET", path, operation, params or {})
        return self._json(response, operation)

    async def _authorised(self, method: str, path: str, operation: str, params: Params) -> httpx.Response:
        """A call with a live token; a 401 `invalid_token` renews the token and replays once."""
        token = await self._access_token()
        try:
            return await self._send(method, path, operation, params, token=token)
        except ConfigError as exc:
            if exc.status != 401:
                raise
        self._token = None
        return await self._send(method, path, operation, params, token=await self._access_token())

    async def _access_token(self) -> str:
        async with self._token_lock:
            if self._token is None or not self._token.fresh(datetime.now(UTC)):
                self._token = await self._fetch_token()
            return self._token.value

    async def _fetch_token(self) -> AccessToken:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._secret}
        response = await self._send("POST", "token", "token", {}, form=form)
        body = self._json(response, "token")
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not value or isinstance(expires_in, bool) or not isinstance(expires_in, int):
            raise TransientError("the token answer has no access_token and expires_in", SYSTEM, "token")
        return AccessToken(value, datetime.now(UTC) + timedelta(seconds=expires_in))

    async def _send(
        self, method: str, path: str, operation: str, params: Params, *, token: str = "",
        form: Mapping[str, str] | None = None,
    ) -> httpx.Response:  # fmt: skip
        """The only call into httpx: every failure leaves here as a ShopBridgeError; a failed read
        is sent again."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"

        async def attempt() -> httpx.Response:
            return await self._send_once(method, path, operation, params, headers, form)

        return await self.gate.send(operation, attempt, repeatable=method == "GET")

    async def _send_once(
        self, method: str, path: str, operation: str, params: Params, headers: dict[str, str],
        form: Mapping[str, str] | None,
    ) -> httpx.Response:  # fmt: skip
        try:
            response = await self._http.request(
                method, self._base_url + path, params=params, data=form, headers=headers
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
        """The class comes from the shared status table, bent where Starweb's bodies say more (spec §2, §3)."""
        status = response.status_code
        code, description = error_fields(response)
        message = self._scrub(f"{method} {path} answered {status}: {description or code or response.reason_phrase}")
        excerpt = self._scrub(response.text)
        if code == RATE_LIMIT_ERROR or status == 429:
            wait = retry_after_seconds(response.headers.get("retry-after"))
            return TransientError(message, SYSTEM, operation, status, excerpt, retry_after=wait or RATE_LIMIT_WAIT)
        if operation == "token" and status in (400, 401, 403, 404):
            # Wrong credentials (400 invalid_client) or a wrong shop address (404): set-up errors.
            return ConfigError(message, SYSTEM, operation, status, excerpt)
        error_class = error_for_status(status)
        if issubclass(error_class, TransientError):
            wait = retry_after_seconds(response.headers.get("retry-after"))
            return error_class(message, SYSTEM, operation, status, excerpt, retry_after=wait)
        return error_class(message, SYSTEM, operation, status, excerpt)

    def _json(self, response: httpx.Response, operation: str) -> Any:
        try:
            return response.json()
        except ValueError:
            excerpt = self._scrub(response.text)
            raise DataError("the response is not JSON", SYSTEM, operation, response.status_code, excerpt) from None

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._token.value if self._token else ""):
            if secret:
                text = text.replace(secret, "***")
        return text


# --- response shapes (spec §4) ---


def item(payload: Any, operation: str) -> Payload:
    """The record of a single GET: `{"data": {...}}`."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        record: Payload = payload["data"]
        return record
    raise DataError("expected {\"data\": {...}}", SYSTEM, operation)


def error_fields(response: httpx.Response) -> tuple[str, str]:
    """`error` and `error_description` of an error body; empty when the body is not Starweb's shape."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text.strip().splitlines()[0][:MESSAGE_LIMIT] if response.text.strip() else ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or "")[:MESSAGE_LIMIT], str(body.get("error_description") or "")[:MESSAGE_LIMIT]


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After in seconds (Starweb documents none; proxies in front of it may send one)."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
