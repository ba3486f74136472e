"""The Hogia connector against its emulator in-process: settings, tokens, lookups, strays, customers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from shopbridge.connectors.base import DocumentKind, DocumentRef, DocumentSink
from shopbridge.connectors.hogia import HogiaConnector, HogiaSettings
from shopbridge.connectors.hogia.client import describe_error_body
from shopbridge.connectors.hogia.connector import _carries_reference
from shopbridge.connectors.hogia.paging import PageNumbers
from shopbridge.connectors.registry import ERP_SYSTEMS, settings_for
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.sandbox import hogia

from ..document_sink_contract import customer, demo_order, reference_for

URL = "http://hogia.test"


def values(**overrides: Any) -> dict[str, Any]:
    base = {"system": "hogia", "url": URL, "client_id": hogia.DEMO_CLIENT_ID,
            "client_secret": hogia.DEMO_CLIENT_SECRET, "organization_id": hogia.DEMO_ORGANIZATION_ID}  # fmt: skip
    return base | overrides


def connect(state: hogia.HogiaState, **overrides: Any) -> HogiaConnector:
    settings = settings_for(ERP_SYSTEMS, values(**overrides))
    assert isinstance(settings, HogiaSettings)
    transport = httpx.ASGITransport(hogia.create_app(state), raise_app_exceptions=False)
    return HogiaConnector(settings, http=httpx.AsyncClient(transport=transport))


@pytest.fixture
def state() -> hogia.HogiaState:
    return hogia.seeded_state(seed=5)


@pytest.fixture
async def connector(state: hogia.HogiaState) -> AsyncIterator[HogiaConnector]:
    built = connect(state)
    yield built
    await built._http.aclose()


async def write(connector: HogiaConnector, order_id: str) -> DocumentRef:
    placed = demo_order(order_id)
    customer_id = await connector.find_customer(placed.customer) or await connector.create_customer(
        placed.customer, placed
    )
    return await connector.create_document(placed, customer_id, DocumentKind.INVOICE, reference_for(order_id))


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("override", "message"), [
    ({"client_id": " "}, "client_id is empty"),
    ({"client_secret": ""}, "client_secret is empty"),
    ({"organization_id": "acme"}, "organization_id"),
    ({"freight_article": ""}, "fee article number"),
    ({"discount_article": "x" * 26}, "fee article number"),
    ({"handling_article": "fraktavg"}, "must differ"),
])  # fmt: skip
def test_bad_settings_are_config_errors_that_name_the_field(override: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_for(ERP_SYSTEMS, values(**override))


def test_the_token_url_is_id_hogia_in_production_and_beside_the_api_elsewhere() -> None:
    production = settings_for(ERP_SYSTEMS, values(url="https://api.hogia.se/"))
    emulated = settings_for(ERP_SYSTEMS, values(url="http://127.0.0.1:8123/"))
    chosen = settings_for(ERP_SYSTEMS, values(token_url="https://id.example/token"))
    assert isinstance(production, HogiaSettings) and isinstance(emulated, HogiaSettings)
    assert isinstance(chosen, HogiaSettings)
    assert production.resolved_token_url() == "https://id.hogia.se/connect/token"
    assert emulated.resolved_token_url() == "http://127.0.0.1:8123/connect/token"
    assert chosen.resolved_token_url() == "https://id.example/token"


def test_the_client_secret_is_the_secret_field_and_never_shown() -> None:
    assert HogiaSettings.secret_fields == ("client_secret",)
    shown = f"{settings_for(ERP_SYSTEMS, values())!r} {settings_for(ERP_SYSTEMS, values()).model_dump()}"
    assert hogia.DEMO_CLIENT_SECRET not in shown


def test_the_connector_is_a_document_sink_writing_invoices_only(connector: HogiaConnector) -> None:
    assert isinstance(connector, DocumentSink)
    assert connector.capabilities.documents == {DocumentKind.INVOICE}


# --- check and tokens ---------------------------------------------------------------------------


async def test_one_token_serves_many_calls(state: hogia.HogiaState, connector: HogiaConnector) -> None:
    await connector.check()
    await connector.missing_skus(["MUG-01", "CAP-01"])
    assert len(state.tokens) == 1


async def test_an_expired_token_is_renewed_and_the_call_repeated(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    await connector.check()
    issued = state.clock()
    state.clock = lambda: issued + timedelta(seconds=state.token_lifetime + 1)
    assert await connector.missing_skus(["MUG-01"]) == set()
    assert len(state.tokens) == 2


async def test_another_organisation_is_a_config_error(state: hogia.HogiaState) -> None:
    wrong = connect(state, organization_id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ConfigError) as caught:
        await wrong.check()
    assert caught.value.status == 403
    await wrong._http.aclose()


async def test_a_url_that_is_not_hogias_api_is_a_config_error(state: hogia.HogiaState) -> None:
    wrong = connect(state, url=f"{URL}/somewhere/else")
    with pytest.raises(ConfigError, match="does not answer like Hogia"):
        await wrong.check()
    await wrong._http.aclose()


async def test_the_secret_never_shows_in_an_error(state: hogia.HogiaState) -> None:
    wrong = connect(state, client_secret="s3cret-value")
    with pytest.raises(ConfigError) as caught:
        await wrong.check()
    assert "s3cret-value" not in f"{caught.value} {caught.value.body_excerpt}"
    await wrong._http.aclose()


# --- documents ----------------------------------------------------------------------------------


async def test_a_booked_invoice_is_found_before_a_stray_draft(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    first = await write(connector, "7001")
    stray = await write(connector, "7001")  # a racing writer's second draft
    booked = await connector.book_invoice(first)
    found = await connector.find_documents(reference_for("7001"), DocumentKind.INVOICE)
    assert [(item.kind, item.number) for item in found] == [(booked.kind, booked.number), (stray.kind, stray.number)]
    assert await connector.find_documents(reference_for("7001"), DocumentKind.ORDER) == []


async def test_a_reference_differing_only_in_case_is_not_ours(connector: HogiaConnector) -> None:
    await write(connector, "Ab-1")
    assert await connector.find_document(reference_for("ab-1")) is None
    assert await connector.find_document(reference_for("Ab-1")) is not None


def test_an_invoice_listed_without_its_reference_fails_closed() -> None:
    with pytest.raises(DataError, match="cannot tell"):
        _carries_reference({"id": "x", "invoiceHeader": {"customerNumber": "1"}}, "acme/1/1")
    assert _carries_reference({"invoiceHeader": {"externalReference": "acme/1/1"}}, "acme/1/1")
    assert not _carries_reference({"invoiceHeader": {"externalReference": "ACME/1/1"}}, "acme/1/1")


async def test_a_stray_draft_is_removed_but_a_booked_invoice_is_not(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    keep = await connector.book_invoice(await write(connector, "7101"))
    stray = await write(connector, "7101")
    assert await connector.remove_document(stray) is True
    assert await connector.remove_document(stray) is True  # already gone
    assert await connector.remove_document(keep) is False
    assert hogia.documents_by_reference(state)[reference_for("7101")] == [("booked_invoice", keep.number)]


async def test_sales_orders_are_refused_as_a_config_error(connector: HogiaConnector) -> None:
    placed = demo_order("7201")
    customer_id = await connector.create_customer(placed.customer, placed)
    with pytest.raises(ConfigError, match="no sales orders"):
        await connector.create_document(placed, customer_id, DocumentKind.ORDER, reference_for("7201"))


async def test_a_missing_fee_article_is_a_config_error(state: hogia.HogiaState, connector: HogiaConnector) -> None:
    del state.articles["fraktavg"]
    with pytest.raises(ConfigError, match="fraktavg"):
        await write(connector, "7301")
    assert state.invoices == {}


# --- customers ----------------------------------------------------------------------------------


async def test_a_bound_customer_is_known_to_exist_until_it_is_gone(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    contact = hogia.add_contact(state, "Anna", "Jensen", "anna@example.se", number="42")
    assert await connector.customer_exists("42") is True
    del state.contacts[contact["id"]]
    assert await connector.customer_exists("42") is False


async def test_a_company_is_found_by_organisation_number_before_email(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    company = customer("new.buyer@foretag.se", country="SE", company="Företag AB", vat_number="SE556677889901")
    by_email = hogia.add_contact(state, "Other", "Person", "new.buyer@foretag.se", number="10")
    created = await connector.create_customer(company, demo_order("7401", buyer=company))
    assert created != by_email["number"]
    assert await connector.find_customer(company) == created


async def test_the_lowest_customer_number_wins_among_equal_emails(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    for number in ("120", "9", "A7"):
        hogia.add_contact(state, "Anna", "Jensen", "anna.jensen@example.dk", number=number)
    assert await connector.find_customer(customer()) == "9"


# --- wire details (unit tests of one function each) -------------------------------------------


@pytest.mark.parametrize(("body", "expected"), [
    ({"title": "One or more validation errors occurred.", "status": 400, "errors": {"sequenceId": ["Required."]}},
     "One or more validation errors occurred. sequenceId: Required."),
    ("Customer 12 does not exist", "Customer 12 does not exist"),
    ([{"propertyName": "invoiceDate", "errorMessage": "Invalid date"}, "Second problem"],
     "invoiceDate: Invalid date; Second problem"),
    ({"error": "invalid_client"}, "invalid_client"),
])  # fmt: skip
def test_every_error_shape_hogia_sends_is_described(body: Any, expected: str) -> None:
    assert describe_error_body(body) == expected


def test_paging_stops_on_a_short_page_and_refuses_a_repeated_one() -> None:
    pages = PageNumbers(page_size=2)
    pages.advance({"page": 1, "totalItems": 3}, 2)
    assert pages.params == {"page": "2", "pageSize": "2"}
    with pytest.raises(TransientError, match="page 1"):
        pages.advance({"page": 1}, 2)
    last = PageNumbers(page_size=2)
    last.advance({"page": 1}, 1)
    assert last.params is None


async def test_an_invoice_that_lists_late_is_found_once_it_settles(
    state: hogia.HogiaState, connector: HogiaConnector
) -> None:
    now = state.clock()
    state.clock = lambda: now
    state.listing_lag = timedelta(seconds=connector.settle_seconds)
    written = await write(connector, "7501")
    assert await connector.find_document(reference_for("7501")) is None
    state.clock = lambda: now + timedelta(seconds=connector.settle_seconds)
    found = await connector.find_document(reference_for("7501"))
    assert found is not None and found.number == written.number
