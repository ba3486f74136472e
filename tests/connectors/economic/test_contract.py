"""The DocumentSink contract, run for the e-conomic connector against its emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from shopbridge.connectors.base import DocumentKind
from shopbridge.connectors.economic import EconomicConnector, EconomicSettings
from shopbridge.sandbox.economic import (
    DEMO_AGREEMENT_GRANT_TOKEN,
    DEMO_APP_SECRET_TOKEN,
    EconomicState,
    create_app,
    documents_by_reference,
    seeded_state,
)
from shopbridge.sandbox.server import serving

from ..document_sink_contract import CONTRACT, SinkHarness

IN_PROCESS_URL = "http://economic.test"
DOCUMENT_PATHS = {DocumentKind.ORDER: "/orders/drafts", DocumentKind.INVOICE: "/invoices/drafts"}


def settings_for(url: str, app_secret_token: str = DEMO_APP_SECRET_TOKEN) -> EconomicSettings:
    return EconomicSettings(
        url=url, app_secret_token=app_secret_token, agreement_grant_token=DEMO_AGREEMENT_GRANT_TOKEN
    )


def in_process_http(state: EconomicState) -> httpx.AsyncClient:
    # The emulator cuts a connection after a commit by raising; in-process that must become a
    # truncated answer, as it is over the network, rather than an exception in the test.
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(state), raise_app_exceptions=False))


def document_totals(state: EconomicState) -> Callable[[str], tuple[Decimal, Decimal] | None]:
    """(grossAmount, vatAmount) of the most advanced document carrying the reference."""

    def totals(reference: str) -> tuple[Decimal, Decimal] | None:
        documents = documents_by_reference(state).get(reference)
        if not documents:
            return None
        collection, number = documents[-1]
        document = state.tables[collection][number]
        return document["grossAmount"], document["vatAmount"]

    return totals


def harness(state: EconomicState, connector: EconomicConnector, bad: Callable[[], EconomicConnector]) -> SinkHarness:
    return SinkHarness(connector, state.faults, document_totals(state), bad, DOCUMENT_PATHS.__getitem__)


@contextmanager
def loopback(state: EconomicState) -> Iterator[str]:
    with serving(create_app(state)) as server:
        yield server.url


@pytest.fixture(params=["in-process", "loopback"])
async def sink(request: pytest.FixtureRequest) -> AsyncIterator[SinkHarness]:
    state = seeded_state(seed=7)
    if request.param == "in-process":
        connector = EconomicConnector(settings_for(IN_PROCESS_URL), http=in_process_http(state))
        bad = lambda: EconomicConnector(settings_for(IN_PROCESS_URL, "wrong"), http=in_process_http(state))  # noqa: E731
        yield harness(state, connector, bad)
        await connector.aclose()
        await connector._http.aclose()
        return
    with loopback(state) as url:
        connector = EconomicConnector(settings_for(url))
        yield harness(state, connector, lambda: EconomicConnector(settings_for(url, "wrong")))
        await connector.aclose()


@pytest.mark.parametrize("contract_check", CONTRACT, ids=lambda check: check.__name__)
async def test_document_sink_contract(
    sink: SinkHarness, contract_check: Callable[[SinkHarness], Awaitable[None]]
) -> None:
    await contract_check(sink)
