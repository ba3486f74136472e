"""Tests of the e-conomic connector's own rules, against the emulator in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest

from shopbridge.connectors.base import DocumentKind, DocumentRef, DocumentSink
from shopbridge.connectors.calls import LocalRateBudget
from shopbridge.connectors.economic import EconomicConnector, EconomicSettings
from shopbridge.connectors.economic.connector import _carries_reference
from shopbridge.errors import ConfigError, DataError
from shopbridge.sandbox.economic import (
    DEMO_AGREEMENT_GRANT_TOKEN,
    DEMO_APP_SECRET_TOKEN,
    EconomicState,
    add_customer,
    add_product,
    create_app,
    documents_by_reference,
    seeded_state,
)
from shopbridge.sandbox.limits import TokenBucket

from ..document_sink_contract import customer, demo_order, order, product, reference_for


@dataclass
class Rig:
    state: EconomicState
    connector: EconomicConnector
    requests: list[httpx.Request]

    def documents(self, reference: str) -> list[tuple[str, int]]:
        return documents_by_reference(self.state).get(reference, [])


def settings(**overrides: object) -> EconomicSettings:
    values: dict[str, object] = {"url": "http://economic.test", "app_secret_token": DEMO_APP_SECRET_TOKEN,
                                 "agreement_grant_token": DEMO_AGREEMENT_GRANT_TOKEN}  # fmt: skip
    return EconomicSettings.model_validate(values | overrides)


async def rig_with(**overrides: object) -> Rig:
    state = seeded_state(seed=3)
    requests: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        requests.append(request)

    http = httpx.AsyncClient(transport=httpx.ASGITransport(create_app(state)), event_hooks={"request": [record]})
    return Rig(state, EconomicConnector(settings(**overrides), http=http), requests)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    made = await rig_with()
    yield made
    await made.connector._http.aclose()


async def invoice_for(rig: Rig, order_id: str) -> DocumentRef:
    placed = demo_order(order_id)
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    return await rig.connector.create_document(placed, customer_id, DocumentKind.INVOICE, reference_for(order_id))


def test_connector_implements_document_sink_and_declares_both_document_kinds() -> None:
    connector = EconomicConnector(settings(), http=httpx.AsyncClient())
    assert isinstance(connector, DocumentSink)
    assert connector.capabilities.documents == {DocumentKind.ORDER, DocumentKind.INVOICE}


def test_settings_never_show_the_tokens() -> None:
    shown = f"{settings()!r} {settings()} {settings().model_dump()}"
    assert DEMO_APP_SECRET_TOKEN not in shown and DEMO_AGREEMENT_GRANT_TOKEN not in shown
    assert EconomicSettings.secret_fields == ("app_secret_token", "agreement_grant_token")


async def test_booked_invoice_wins_over_a_draft_with_the_same_reference(rig: Rig) -> None:
    draft = await invoice_for(rig, "1")
    booked = await rig.connector.book_invoice(draft)
    await invoice_for(rig, "1")  # a second draft, as a racing writer might leave behind
    found = await rig.connector.find_documents(reference_for("1"), DocumentKind.INVOICE)
    assert [(document.kind, document.number) for document in found][0] == ("booked_invoice", booked.number)
    assert [document.kind for document in found] == ["booked_invoice", "draft_invoice"]


async def test_only_collections_of_the_configured_kind_are_searched(rig: Rig) -> None:
    placed = demo_order("2")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    order = await rig.connector.create_document(placed, customer_id, DocumentKind.ORDER, reference_for("2"))
    assert await rig.connector.find_documents(reference_for("2"), DocumentKind.INVOICE) == []
    assert await rig.connector.find_documents(reference_for("2"), DocumentKind.ORDER) == [order]


async def test_sent_and_archived_orders_are_found_by_reference(rig: Rig) -> None:
    placed = demo_order("3")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    created = await rig.connector.create_document(placed, customer_id, DocumentKind.ORDER, reference_for("3"))
    assert created.kind == "order"
    draft = rig.state.tables["orders/drafts"][int(created.number)]
    await rig.connector.client._request("POST", "/orders/sent", body={**draft, "orderNumber": int(created.number)})
    found = (await rig.connector.find_documents(reference_for("3"), DocumentKind.ORDER))[0]
    assert (found.kind, found.number) == ("sent_order", created.number)
    # Upgrading to an invoice is not emulated; move the order the way e-conomic would.
    rig.state.tables["orders/archived"][int(created.number)] = rig.state.tables["orders/sent"].pop(int(created.number))
    found = (await rig.connector.find_documents(reference_for("3"), DocumentKind.ORDER))[0]
    assert (found.kind, found.number) == ("archived_order", created.number)


async def test_reference_differing_only_in_case_is_not_the_same_document(rig: Rig) -> None:
    placed = demo_order("abc")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    await rig.connector.create_document(placed, customer_id, DocumentKind.INVOICE, "conn/default/abc")
    assert await rig.connector.find_documents("conn/default/ABC", DocumentKind.INVOICE) == []


async def test_lowest_customer_number_wins_when_an_email_is_shared(rig: Rig) -> None:
    buyer = customer("shared@example.dk")
    for number in (40, 12, 31):
        add_customer(rig.state, customerNumber=number, email=buyer.email)
    assert await rig.connector.find_customer(buyer) == "12"


async def test_customers_are_found_across_pages() -> None:
    rig = await rig_with(page_size=2)
    buyer = customer("many@example.dk")
    for number in (9, 8, 7, 3, 5):
        add_customer(rig.state, customerNumber=number, email=buyer.email)
    add_customer(rig.state, customerNumber=1, email="someone.else@example.dk")
    assert await rig.connector.find_customer(buyer) == "3"
    assert len([r for r in rig.requests if r.url.path == "/customers"]) == 3
    await rig.connector._http.aclose()


async def test_created_customer_is_stored_with_the_foreign_group_and_eu_zone(rig: Rig) -> None:
    buyer = customer("erik.svensson@example.se", country="SE", first_name="Erik", last_name="Svensson")
    placed = order([product("MUG-01", "1", "79.20", "0")], buyer=buyer)
    number = await rig.connector.create_customer(buyer, placed)
    stored = rig.state.tables["customers"][int(number)]
    assert stored["name"] == "Erik Svensson"
    assert stored["customerGroup"]["customerGroupNumber"] == 2
    assert stored["vatZone"]["vatZoneNumber"] == 2
    assert stored["country"] == "Sweden"


async def test_a_known_product_is_remembered_and_a_missing_one_is_asked_for_again(rig: Rig) -> None:
    assert await rig.connector.missing_skus(["MUG-01", "NOPE"]) == {"NOPE"}
    assert await rig.connector.missing_skus(["MUG-01", "NOPE", "MUG-01"]) == {"NOPE"}
    asked = [r.url.path for r in rig.requests if r.url.path.startswith("/products/")]
    assert asked == ["/products/MUG-01", "/products/NOPE", "/products/NOPE"]


async def test_a_product_created_after_a_miss_is_seen_at_once(rig: Rig) -> None:
    assert await rig.connector.missing_skus(["NEW-01"]) == {"NEW-01"}
    add_product(rig.state, "NEW-01", "New mug", Decimal("10.00"))
    assert await rig.connector.missing_skus(["NEW-01"]) == set()


async def test_a_refused_document_forgets_its_products_so_the_retry_looks_again(rig: Rig) -> None:
    assert await rig.connector.missing_skus(["MUG-01"]) == set()
    del rig.state.tables["products"]["MUG-01"]
    placed = order([product("MUG-01", "1", "10.00")], order_id="4302")
    with pytest.raises(DataError):
        await rig.connector.create_document(placed, "1", DocumentKind.INVOICE, reference_for("4302"))
    assert rig.connector._product_groups.get("MUG-01") is None


async def test_sku_too_long_for_e_conomic_is_missing_without_asking(rig: Rig) -> None:
    assert await rig.connector.missing_skus(["X" * 26]) == {"X" * 26}
    assert rig.requests == []


async def test_document_lines_reach_e_conomic_as_translated(rig: Rig) -> None:
    created = await invoice_for(rig, "4")
    stored = rig.state.tables["invoices/drafts"][int(created.number)]
    assert [line["product"]["productNumber"] for line in stored["lines"]] == ["MUG-01", "BAG-TOTE", "SHIPPING"]
    assert stored["references"]["other"] == reference_for("4")
    assert created.extra["gross_amount"] == str(demo_order("4").total_gross.amount)


async def test_order_document_is_written_as_an_order_draft(rig: Rig) -> None:
    placed = demo_order("5")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    created = await rig.connector.create_document(placed, customer_id, DocumentKind.ORDER, reference_for("5"))
    assert rig.documents(reference_for("5")) == [("orders/drafts", int(created.number))]


async def test_vat_mismatch_is_a_data_error_and_nothing_is_written(rig: Rig) -> None:
    placed = order([product("GIFTCARD", "1", "400.00", "0.25")], order_id="6")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    with pytest.raises(DataError, match="e-conomic product group 2 applies 0 %"):
        await rig.connector.create_document(placed, customer_id, DocumentKind.INVOICE, reference_for("6"))
    assert rig.documents(reference_for("6")) == []


async def test_missing_shipping_product_is_a_config_error() -> None:
    rig = await rig_with(shipping_product="NO-FREIGHT")
    placed = demo_order("7")
    customer_id = await rig.connector.create_customer(placed.customer, placed)
    with pytest.raises(ConfigError, match="NO-FREIGHT"):
        await rig.connector.create_document(placed, customer_id, DocumentKind.INVOICE, reference_for("7"))
    await rig.connector._http.aclose()


async def test_unknown_customer_number_is_a_data_error_from_e_conomic(rig: Rig) -> None:
    with pytest.raises(DataError, match="customer"):
        await rig.connector.create_document(demo_order("8"), "999", DocumentKind.INVOICE, reference_for("8"))
    with pytest.raises(DataError):
        await rig.connector.create_document(demo_order("8"), "anna", DocumentKind.INVOICE, reference_for("8"))


async def test_only_draft_invoices_can_be_booked(rig: Rig) -> None:
    with pytest.raises(DataError):
        await rig.connector.book_invoice(DocumentRef(kind="order", number="1", reference="x"))


async def test_booking_a_vanished_draft_without_a_booked_twin_is_a_data_error(rig: Rig) -> None:
    with pytest.raises(DataError):
        await rig.connector.book_invoice(DocumentRef(kind="draft_invoice", number="404", reference="nowhere"))


async def test_aclose_closes_only_an_http_client_the_connector_made() -> None:
    injected = httpx.AsyncClient()
    await EconomicConnector(settings(), http=injected).aclose()
    assert not injected.is_closed
    await injected.aclose()
    owned = EconomicConnector(settings())
    await owned.aclose()
    assert owned._http.is_closed


async def test_check_against_a_url_that_is_not_e_conomic_is_a_config_error() -> None:
    rig = await rig_with(url="http://economic.test/not-the-api")
    with pytest.raises(ConfigError):
        await rig.connector.check()
    await rig.connector._http.aclose()


async def test_transfers_side_by_side_share_one_lookup_of_a_product(rig: Rig) -> None:
    found = await asyncio.gather(*(rig.connector.missing_skus(["MUG-01"]) for _ in range(3)))
    assert found == [set(), set(), set()]
    assert [r.url.path for r in rig.requests] == ["/products/MUG-01"]


async def test_a_429_holds_the_agreement_back_and_the_read_is_sent_again_after_its_retry_after(rig: Rig) -> None:
    rig.state.rate_limit = TokenBucket(capacity=1, refill_per_second=0.5)
    budget = LocalRateBudget()
    gate = rig.connector.client.gate
    gate.budget = budget
    await rig.connector.check()
    started = time.monotonic()
    repeated = asyncio.create_task(rig.connector.check())
    await asyncio.sleep(0.3)  # the read has its 429 (Retry-After 2) by now
    await budget.acquire(gate.account, gate.windows)
    assert time.monotonic() - started >= 1.5  # every other caller of the agreement waited too
    await repeated
    assert [r.url.path for r in rig.requests].count("/self") == 3


@pytest.mark.parametrize(
    "payload",
    [{}, {"references": {}}, {"references": "shop/1/5"}, {"references": {"other": "SHOP/1/5"}}],
    ids=["no-references", "no-other", "not-an-object", "other-case"],
)
def test_a_document_not_showing_our_exact_reference_is_not_ours(payload: dict[str, object]) -> None:
    assert not _carries_reference(payload, "shop/1/5")
    assert _carries_reference({"references": {"other": "shop/1/5"}}, "shop/1/5")
