"""The agent's one outbound connection: HTTPS long-polling against ShopBridge, answers buffered on disk."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import httpx

LOG = logging.getLogger("shopbridge.agent")


class Unreachable(Exception):
    """ShopBridge could not be reached or answered with a server error; try again later."""


class TokenRefused(Exception):
    """ShopBridge does not know this agent token."""


class AgentTransport:
    """Requests to ShopBridge's agent API; results go through an on-disk outbox so none is lost."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str, state_dir: Path) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self.outbox = state_dir / "outbox"
        self.outbox.mkdir(parents=True, exist_ok=True)

    async def whoami(self) -> str:
        return str((await self._send("GET", "/api/agent/self")).json()["connection"])

    async def next_job(self, wait: float, lease: float) -> dict[str, Any] | None:
        response = await self._send("GET", "/api/agent/jobs/next", params={"wait": wait, "lease": lease},
                                    timeout=wait + 30)  # fmt: skip
        return None if response.status_code == 204 else dict(response.json())

    async def put_export(self, kind: str, body: str) -> None:
        await self._send("PUT", f"/api/agent/exports/{kind}", json={"body": body})

    async def heartbeat(self, info: dict[str, Any]) -> None:
        await self._send("POST", "/api/agent/heartbeat", json=info)

    def buffer_result(self, job_id: int, state: str, result: dict[str, Any], error: str = "") -> None:
        """Keep the answer on disk first: it survives a restart and an unreachable ShopBridge."""
        path = self.outbox / f"{job_id}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"job_id": job_id, "state": state, "result": result, "error": error}))
        os.replace(temporary, path)

    def buffered(self) -> list[Path]:
        return sorted(self.outbox.glob("*.json"), key=lambda path: int(path.stem))

    async def flush(self) -> int:
        """Deliver every buffered answer, oldest first; returns how many were delivered."""
        delivered = 0
        for path in self.buffered():
            answer = json.loads(path.read_text())
            body = {key: answer[key] for key in ("state", "result", "error")}
            response = await self._send("POST", f"/api/agent/jobs/{answer['job_id']}/result", json=body,
                                        missing_ok=True)  # fmt: skip
            if response.status_code == 404:
                LOG.warning("ShopBridge no longer knows job %s; dropping its answer", answer["job_id"])
            path.unlink()
            delivered += 1
        return delivered

    async def _send(self, method: str, path: str, *, timeout: float | None = None, missing_ok: bool = False,
                    **kwargs: Any) -> httpx.Response:  # fmt: skip
        """Every request goes through here."""
        try:
            response = await self._http.request(method, self._url + path, headers=self._headers,
                                                timeout=timeout or httpx.USE_CLIENT_DEFAULT, **kwargs)  # fmt: skip
        except httpx.HTTPError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 401:
            raise TokenRefused("ShopBridge refused the agent token; issue a new one with `shopbridge agent token`")
        if response.status_code >= 500 or response.status_code == 429:
            raise Unreachable(f"ShopBridge answered {response.status_code}")
        if response.is_success or (missing_ok and response.status_code == 404):
            return response
        raise Unreachable(f"ShopBridge refused {method} {path}: {response.status_code} {response.text[:200]}")
