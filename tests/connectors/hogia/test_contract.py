"""The DocumentSink contract, run for the Hogia connector against its emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import httpx
import pytest

from shopbridge.connectors.base import DocumentKind
from shopbridge.connectors.hogia import HogiaConnector, HogiaSettings
from shopbridge.sandbox.hogia import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_ORGANIZATION_ID,
    HogiaState,
    create_app,
    seeded_state,
)
from shopbridge.sandbox.server import serving

from ..document_sink_contract import CONTRACT, SinkHarness

IN_PROCESS_URL = "http://hogia.test"


def settings_for(url: str, client_secret: str = DEMO_CLIENT_SECRET) -> HogiaSettings:
    return HogiaSettings(
        url=url, client_id=DEMO_CLIENT_ID, client_secret=client_secret, organization_id=DEMO_ORGANIZATION_ID
    )


def in_process_http(state: HogiaState) -> httpx.AsyncClient:
    # A connection cut after a commit must reach the client as a truncated answer, as over the network.
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(state), raise_app_exceptions=False))


def document_path(kind: DocumentKind) -> str:
    return f"/{DEMO_ORGANIZATION_ID}/customerinvoices"


def document_totals(state: HogiaState) -> Callable[[str], tuple[Decimal, Decimal] | None]:
    """(grossAmount, vatAmount) of the newest invoice carrying the reference."""

    def totals(reference: str) -> tuple[Decimal, Decimal] | None:
        invoices = [item for item in state.invoices.values() if item["invoiceHeader"]["externalReference"] == reference]
        if not invoices:
            return None
        header = invoices[-1]["invoiceHeader"]
        return header["grossAmount"], header["vatAmount"]

    return totals


def harness(state: HogiaState, connector: HogiaConnector, bad: Callable[[], HogiaConnector]) -> SinkHarness:
    return SinkHarness(connector, state.faults, document_totals(state), bad, document_path)


@pytest.fixture(params=["in-process", "loopback"])
async def sink(request: pytest.FixtureRequest) -> AsyncIterator[SinkHarness]:
    state = seeded_state(seed=7)
    if request.param == "in-process":
        connector = HogiaConnector(settings_for(IN_PROCESS_URL), http=in_process_http(state))
        bad = lambda: HogiaConnector(settings_for(IN_PROCESS_URL, "wrong"), http=in_process_http(state))  # noqa: E731
        yield harness(state, connector, bad)
        await connector.aclose()
        await connector._http.aclose()
        return
    with serving(create_app(state)) as server:
        connector = HogiaConnector(settings_for(server.url))
        yield harness(state, connector, lambda: HogiaConnector(settings_for(server.url, "wrong")))
        await connector.aclose()


@pytest.mark.parametrize("contract_check", CONTRACT, ids=lambda check: check.__name__)
async def test_document_sink_contract(
    sink: SinkHarness, contract_check: Callable[[SinkHarness], Awaitable[None]]
) -> None:
    await contract_check(sink)

