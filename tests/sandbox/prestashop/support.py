"""Fixtures and helpers shared by the PrestaShop emulator tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree

from shopbridge.sandbox.prestashop import DEMO_API_KEY, PrestaShopState, create_app, seeded_state

BASE_URL = "http://shop.test"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Half an hour before Copenhagen moves its clocks to summer time (01:00 UTC, 31 March 2024).
START = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> PrestaShopState:
    return seeded_state(seed=3, orders=4, clock=clock)


@pytest.fixture
async def client(state: PrestaShopState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, auth=(DEMO_API_KEY, "")) as opened:
        yield opened


def xml(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content)


def entity(response: httpx.Response) -> etree._Element:
    """The one entity under `<prestashop>`."""
    (child,) = xml(response)
    return child


def text(element: etree._Element, name: str) -> str:
    found = element.find(name)
    assert found is not None, f"no <{name}> in <{element.tag}>"
    return found.text or ""


def error_codes(response: httpx.Response) -> list[int]:
    return [int(code.text or "0") for code in xml(response).iter("code")]


def without(element: etree._Element, *names: str) -> bytes:
    """The entity as an XML write body, without the named fields."""
    for name in names:
        found = element.find(name)
        if found is not None:
            element.remove(found)
    return b"<prestashop>" + etree.tostring(element) + b"</prestashop>"
