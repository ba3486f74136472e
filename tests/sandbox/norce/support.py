"""An in-process HTTP client on a seeded Norce emulator, holding a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shopbridge.sandbox import norce

QUERY = "/commerce/query/2.0"
CONNECT = "/commerce/connect/4.0"


def token_form(state: norce.NorceState, **changes: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": state.client_id,
            "client_secret": state.client_secret, "scope": state.environment}  # fmt: skip
    form.update(changes)
    return form


@dataclass
class Tenant:
    state: norce.NorceState
    http: httpx.AsyncClient
    token: str = ""

    async def login(self) -> None:
        response = await self.http.post("/identity/1.0/connect/token", data=token_form(self.state))
        self.token = response.json()["access_token"]

    def headers(self, application: int | None = 101) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.token}"}
        return found if application is None else {**found, "applicationId": str(application)}

    async def orders(self, application: int | None = 101, **params: str) -> httpx.Response:
        query = {f"${name}": value for name, value in params.items()}
        return await self.http.get(f"{QUERY}/Orders/Orders", params=query, headers=self.headers(application))

    async def connect(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return await self.http.post(f"{CONNECT}/{path}", json=body, headers={**self.headers(None), **headers})


async def tenant(state: norce.NorceState) -> Tenant:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=norce.create_app(state)), base_url="http://norce.test")
    found = Tenant(state, http)
    await found.login()
    return found
