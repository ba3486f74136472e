"""`shopbridge sandbox serve norce` builds a seeded tenant whose printed credentials work."""

from __future__ import annotations

import httpx

from shopbridge.sandbox.registry import build_emulator


async def test_served_norce_accepts_its_printed_credentials_and_holds_the_seeded_orders() -> None:
    emulator = build_emulator("norce", seed=1, orders=3)
    form = {"grant_type": "client_credentials", **{k: emulator.credentials[k] for k in ("client_id", "scope")},
            "client_secret": emulator.credentials["client_secret"]}  # fmt: skip
    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://norce.test") as http:
        token = (await http.post("/identity/1.0/connect/token", data=form)).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "applicationId": "101"}
        orders = (await http.get("/commerce/query/2.0/Orders/Orders", headers=headers)).json()["value"]
    assert len(orders) == 3
    assert "applicationId 101" in emulator.credentials["channel demo-dk"]
