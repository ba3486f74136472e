"""The emulators' shared pacing: a token bucket answering 429 and a simulated round trip."""

from __future__ import annotations

import time

import httpx

from shopbridge.sandbox import economic, prestashop
from shopbridge.sandbox.limits import TokenBucket
from shopbridge.sandbox.registry import build_emulator


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_lets_a_burst_through_then_says_how_long_to_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(capacity=2, refill_per_second=1, clock=clock)
    assert [bucket.take(), bucket.take()] == [0.0, 0.0]
    assert bucket.take() == 1.0 and bucket.refused == 1
    clock.now = 1.0
    assert bucket.take() == 0.0


async def test_the_shop_emulator_answers_429_with_retry_after_beyond_its_limit() -> None:
    state = prestashop.seeded_state(seed=1)
    state.rate_limit = TokenBucket(capacity=1, refill_per_second=0.25)
    transport = httpx.ASGITransport(prestashop.create_app(state))
    async with httpx.AsyncClient(transport=transport, auth=(state.api_key, "")) as http:
        assert (await http.get("http://shop.test/api/orders")).status_code == 200
        refused = await http.get("http://shop.test/api/orders")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "4"
        assert b"Too many requests" in refused.content
        assert (await http.get("http://shop.test/_sandbox/state")).status_code == 200


async def test_every_answer_can_be_held_back_like_a_remote_round_trip() -> None:
    state = economic.seeded_state(seed=1)
    state.round_trip_seconds = 0.2
    headers = {"X-AppSecretToken": state.app_secret_token, "X-AgreementGrantToken": state.agreement_grant_token}
    transport = httpx.ASGITransport(economic.create_app(state))
    async with httpx.AsyncClient(transport=transport, headers=headers) as http:
        started = time.monotonic()
        assert (await http.get("http://economic.test/self")).status_code == 200
        assert time.monotonic() - started >= 0.2


async def test_serve_with_rate_limit_refuses_a_burst_beyond_the_systems_limit() -> None:
    emulator = build_emulator("prestashop", seed=1, rate_limit=True)
    transport = httpx.ASGITransport(emulator.app)
    key = emulator.credentials["webservice key"]
    async with httpx.AsyncClient(transport=transport, auth=(key, "")) as http:
        statuses = [(await http.get("http://shop.test/api/currencies")).status_code for _ in range(30)]
    assert statuses[:10] == [200] * 10
    assert 429 in statuses


async def test_serve_without_rate_limit_refuses_nothing() -> None:
    emulator = build_emulator("economic", seed=1)
    transport = httpx.ASGITransport(emulator.app)
    async with httpx.AsyncClient(transport=transport, headers=emulator.credentials) as http:
        statuses = {(await http.get("http://economic.test/self")).status_code for _ in range(30)}
    assert statuses == {200}
