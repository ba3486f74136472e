"""The shared fault injection middleware, exercised through the PrestaShop emulator."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from shopbridge.sandbox.faults import ConnectionDropped, FaultRule
from shopbridge.sandbox.prestashop import DEMO_API_KEY, PrestaShopState, create_app
from shopbridge.sandbox.server import serving
from tests.sandbox.prestashop.support import client, clock, error_codes, state

__all__ = ["client", "clock", "state"]  # fixtures used by this module

STATE_CHANGE = ("<prestashop><order_history><id_order>1</id_order><id_order_state>4</id_order_state>"
                "</order_history></prestashop>")


async def test_latency_rule_delays_the_answer_but_keeps_it(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    state.faults.add(FaultRule(kind="latency", path="/api/orders", seconds=0.2))
    started = time.perf_counter()
    response = await client.get("/api/orders")
    assert response.status_code == 200 and time.perf_counter() - started >= 0.2


async def test_429_carries_retry_after_and_a_prestashop_error_body_for_its_times(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    state.faults.add(FaultRule(kind="status", status=429, retry_after=2, times=1))
    limited, next_one = await client.get("/api/orders"), await client.get("/api/orders")
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "2")
    assert limited.headers["content-type"].startswith("text/xml") and len(error_codes(limited)) == 1
    assert next_one.status_code == 200 and state.faults.fired == 1


async def test_5xx_rule_matches_method_and_path_and_stops_the_write(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    state.faults.add(FaultRule(kind="status", status=503, method="POST", path="/api/order_histories"))
    histories = len(state.tables["order_histories"])
    read = await client.get("/api/order_histories")
    write = await client.post("/api/order_histories", content=STATE_CHANGE)
    assert (read.status_code, write.status_code) == (200, 503)
    assert len(state.tables["order_histories"]) == histories and state.tables["orders"][1]["current_state"] != "4"


async def test_timeout_rule_waits_then_answers_504(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    state.faults.add(FaultRule(kind="timeout", seconds=0.2, times=1))
    started = time.perf_counter()
    response = await client.get("/api/orders")
    assert response.status_code == 504 and time.perf_counter() - started >= 0.2


async def test_a_rule_with_zero_probability_never_fires(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    state.faults.add(FaultRule(kind="status", status=500, probability=0.0))
    statuses = {(await client.get("/api/orders")).status_code for _ in range(5)}
    assert statuses == {200} and state.faults.fired == 0


async def test_drop_after_commit_in_process_raises_after_the_write(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    state.faults.add(FaultRule(kind="drop_after_commit", method="POST", times=1))
    with pytest.raises(ConnectionDropped):
        await client.post("/api/order_histories", content=STATE_CHANGE)
    assert state.tables["orders"][1]["current_state"] == "4"


async def test_drop_after_commit_over_real_http_commits_the_write_yet_breaks_the_answer(
    state: PrestaShopState,
) -> None:
    state.faults.add(FaultRule(kind="drop_after_commit", method="POST", path="/api/order_histories", times=1))
    histories = len(state.tables["order_histories"])
    with serving(create_app(state)) as server:
        async with httpx.AsyncClient(base_url=server.url, auth=(DEMO_API_KEY, ""), timeout=5) as http:
            with pytest.raises(httpx.TransportError):
                await http.post("/api/order_histories", content=STATE_CHANGE)
            after = await http.get("/api/orders/1", params={"display": "[current_state]", "output_format": "JSON"})
    assert after.json() == {"orders": [{"current_state": "4"}]}
    assert len(state.tables["order_histories"]) == histories + 1


async def test_control_endpoint_replaces_lists_and_clears_the_rules(state: PrestaShopState) -> None:
    rules = [{"kind": "status", "status": 502, "path": "/api/products", "times": 2}]
    with serving(create_app(state)) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            replaced = await http.put("/_sandbox/faults", content=json.dumps(rules))
            failing = await http.get("/api/products", auth=(DEMO_API_KEY, ""))
            listed = (await http.get("/_sandbox/faults")).json()
            cleared = (await http.delete("/_sandbox/faults")).json()
            invalid = await http.put("/_sandbox/faults", content=b"[{\"colour\": 1}]")
    assert replaced.status_code == 200 and failing.status_code == 502
    assert listed["rules"][0]["times"] == 1 and listed["fired"] == 1
    assert cleared["rules"] == [] and not state.faults.rules
    assert invalid.status_code == 400


async def test_late_commit_answers_nothing_in_time_but_commits_afterwards(state: PrestaShopState) -> None:
    shop = state
    shop.faults.add(FaultRule(kind="late_commit", method="POST", path="/api/order_histories", seconds=0.6))
    with serving(create_app(shop)) as server:
        async with httpx.AsyncClient(base_url=server.url, auth=(DEMO_API_KEY, ""), timeout=0.2) as http:
            histories_before = len(shop.tables["order_histories"])
            with pytest.raises(httpx.ReadTimeout):
                await http.post("/api/order_histories", content=STATE_CHANGE)
            assert len(shop.tables["order_histories"]) == histories_before  # nothing yet when the client gives up
            deadline = time.monotonic() + 3
            while len(shop.tables["order_histories"]) == histories_before and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(shop.tables["order_histories"]) == histories_before + 1  # ... and then it commits
