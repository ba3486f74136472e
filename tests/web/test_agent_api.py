"""The agent API: bearer tokens, long-polled jobs, answers, exports and the operator's health view."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shopbridge.store import Store
from shopbridge.web.app import create_app


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://shopbridge") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_requests_without_a_known_token_are_refused(http: httpx.AsyncClient, store: Store) -> None:
    store.agents.issue_token("acme")
    assert (await http.get("/api/agent/self")).status_code == 401
    assert (await http.get("/api/agent/self", headers=bearer("sbagent_wrong"))).status_code == 401
    assert (await http.get("/api/agent/jobs/next?wait=0", headers={"Authorization": "Basic x"})).status_code == 401


async def test_a_job_goes_from_the_connector_to_the_agent_and_back(http: httpx.AsyncClient, store: Store) -> None:
    headers = bearer(store.agents.issue_token("acme"))
    queued = await http.post("/api/agent/jobs", json={"reference": "acme/1/7", "kind": "order", "payload": "<x/>"},
                             headers=headers)  # fmt: skip
    taken = await http.get("/api/agent/jobs/next", params={"wait": 0, "lease": 30}, headers=headers)
    assert taken.status_code == 200 and taken.json()["id"] == queued.json()["id"] and taken.json()["payload"] == "<x/>"
    assert (await http.get("/api/agent/jobs/next", params={"wait": 0.2}, headers=headers)).status_code == 204
    answer = {"state": "done", "result": {"number": "10001"}}
    assert (await http.post(f"/api/agent/jobs/{queued.json()['id']}/result", json=answer, headers=headers)).is_success
    found = await http.get("/api/agent/jobs", params={"reference": "acme/1/7"}, headers=headers)
    assert found.json()["state"] == "done" and found.json()["result"] == {"number": "10001"}


async def test_one_connections_token_cannot_see_anothers_jobs(http: httpx.AsyncClient, store: Store) -> None:
    acme, other = bearer(store.agents.issue_token("acme")), bearer(store.agents.issue_token("other"))
    await http.post("/api/agent/jobs", json={"reference": "acme/1/7", "kind": "order", "payload": "<x/>"}, headers=acme)
    assert (await http.get("/api/agent/jobs", params={"reference": "acme/1/7"}, headers=other)).status_code == 404
    assert (await http.get("/api/agent/jobs/next", params={"wait": 0}, headers=other)).status_code == 204


async def test_exports_are_stored_per_kind(http: httpx.AsyncClient, store: Store) -> None:
    headers = bearer(store.agents.issue_token("acme"))
    assert (await http.get("/api/agent/exports/orders", headers=headers)).status_code == 404
    assert (await http.put("/api/agent/exports/orders", json={"body": "<GBAOX10/>"}, headers=headers)).is_success
    assert (await http.get("/api/agent/exports/orders", headers=headers)).json()["body"] == "<GBAOX10/>"
    assert (await http.put("/api/agent/exports/secrets", json={"body": ""}, headers=headers)).status_code == 404


async def test_health_shows_an_agent_that_was_never_heard_as_quiet(http: httpx.AsyncClient, store: Store) -> None:
    token = store.agents.issue_token("acme")
    operator = bearer(store.tokens.create("operator"))
    assert (await http.get("/api/connections/acme/agent")).status_code == 401  # operators only
    assert (await http.get("/api/connections/acme/agent", headers=operator)).json()["quiet"] is True
    await http.post("/api/agent/heartbeat", json={"version": "1", "buffered": 0}, headers=bearer(token))
    health = (await http.get("/api/connections/acme/agent", headers=operator)).json()
    assert health["quiet"] is False and health["agent"] == {"version": "1", "buffered": 0}
    assert (await http.get("/api/connections/nobody/agent", headers=operator)).status_code == 404
    assert (await http.get("/api/connections/acme/agent", headers=bearer(token))).status_code == 401


async def test_the_orders_page_tells_the_operator_an_agent_has_gone_quiet(
    http: httpx.AsyncClient, store: Store
) -> None:
    store.connections.apply("acme", "prestashop", "mamut", {}, {})
    token = store.agents.issue_token("acme")
    operator = bearer(store.tokens.create("operator"))
    page = (await http.get("/", headers=operator)).text
    assert 'data-agent="acme"' in page and "has gone quiet" in page and "never heard" in page
    await http.post("/api/agent/heartbeat", json={"version": "1", "buffered": 0}, headers=bearer(token))
    page = (await http.get("/", headers=operator)).text
    assert "has gone quiet" not in page and "was heard" in page
