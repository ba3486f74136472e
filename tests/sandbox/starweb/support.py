"""An in-process Starweb emulator with a signed-in HTTP client, for the emulator's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from shopbridge.sandbox import starweb

BASE_URL = "http://shop.test/api/v2/"


def token_form(state: starweb.StarwebState, secret: str | None = None) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": state.client_id,
            "client_secret": state.client_secret if secret is None else secret}  # fmt: skip


@asynccontextmanager
async def signed_in(state: starweb.StarwebState) -> AsyncIterator[httpx.AsyncClient]:
    """A client over ASGI carrying a fresh Bearer token of the demo client."""
    transport = httpx.ASGITransport(app=starweb.create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        answer = await http.post("token", data=token_form(state))
        http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield http
