"""The wire to a Mamut company: ShopBridge's agent API, where jobs are queued for the on-premises agent."""

from __future__ import annotations

from typing import Any

import httpx

from shopbridge.connectors.calls import repeating_reads
from shopbridge.errors import ConfigError, ShopBridgeError, TransientError, error_for_status

SYSTEM = "mamut"
# Transport failures and what they mean for us, checked in order: the one place they are translated.
_TRANSPORT_ERRORS: tuple[tuple[type[Exception], type[ShopBridgeError]], ...] = (
    (httpx.TimeoutException, TransientError),
    (httpx.NetworkError, TransientError),
    (httpx.RemoteProtocolError, TransientError),
    (httpx.UnsupportedProtocol, ConfigError),
    (httpx.LocalProtocolError, ConfigError),
    (httpx.InvalidURL, ConfigError),
)


class MamutClient:
    """Jobs and exports of one connection's agent, over an injected `httpx.AsyncClient`."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, agent_token: str) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {agent_token}", "Accept": "application/json"}

    async def whoami(self) -> dict[str, Any]:
        response = await self._send("GET", "/api/agent/self")
        return dict(response.json())

    async def enqueue(self, reference: str, kind: str, payload: str) -> dict[str, Any]:
        """Queue a document for the agent; the same reference twice is the same job."""
        body = {"reference": reference, "kind": kind, "payload": payload}
        return dict((await self._send("POST", "/api/agent/jobs", json=body)).json())

    async def job(self, reference: str) -> dict[str, Any] | None:
        response = await self._send("GET", "/api/agent/jobs", params={"reference": reference}, missing_ok=True)
        return None if response.status_code == 404 else dict(response.json())

    async def export(self, kind: str) -> str | None:
        """The newest export file of this kind the agent sent; None before the first."""
        response = await self._send("GET", f"/api/agent/exports/{kind}", missing_ok=True)
        return None if response.status_code == 404 else str(response.json()["body"])

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        """Every request goes through here (the place for a shared rate budget); a failed read is
        sent again."""

        async def attempt() -> httpx.Response:
            try:
                response = await self._http.request(
                    method, self._base_url + path, json=json, params=params, headers=self._headers
                )
            except httpx.HTTPError as exc:
                raise _transport_error(exc, method, path) from exc
            if response.is_success or (missing_ok and response.status_code == 404):
                return response
            raise _status_error(response, method, path)

        return await repeating_reads(attempt, repeatable=method == "GET")


def _transport_error(exc: httpx.HTTPError, method: str, path: str) -> ShopBridgeError:
    for kind, error in _TRANSPORT_ERRORS:
        if isinstance(exc, kind):
            return error(f"{type(exc).__name__}: {exc}", system=SYSTEM, operation=f"{method} {path}")
    return TransientError(f"{type(exc).__name__}: {exc}", system=SYSTEM, operation=f"{method} {path}")


def _status_error(response: httpx.Response, method: str, path: str) -> ShopBridgeError:
    error = error_for_status(response.status_code)
    operation = f"{method} {path}"
    message = "the agent token was refused" if response.status_code == 401 else "ShopBridge's agent API refused"
    if error is TransientError:
        retry = response.headers.get("Retry-After", "")
        wait = float(retry) if retry.replace(".", "", 1).isdigit() else None
        return TransientError(message, SYSTEM, operation, response.status_code, response.text, retry_after=wait)
    return error(message, SYSTEM, operation, response.status_code, response.text)
