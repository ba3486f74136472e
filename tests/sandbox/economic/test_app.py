"""The e-conomic REST emulator, driven over HTTP in-process and on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from shopbridge.sandbox import catalog
from shopbridge.sandbox.economic import (
    DEMO_AGREEMENT_GRANT_TOKEN,
    DEMO_APP_SECRET_TOKEN,
    EconomicState,
    TokenBucket,
    add_customer,
    add_product,
    create_app,
    documents_by_reference,
    find_document,
    get_document,
    seeded_state,
)
from shopbridge.sandbox.economic.query import encode_id
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.server import serving

BASE = "https://restapi.e-conomic.com"
TOKENS = {"X-AppSecretToken": DEMO_APP_SECRET_TOKEN, "X-AgreementGrantToken": DEMO_AGREEMENT_GRANT_TOKEN}
ERROR_FIELDS = {"message", "developerHint", "logId", "httpStatusCode", "logTime"}
CENT = Decimal("0.01")
MAX_PAGES = 50


def round2(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def catalog_price(sku: str) -> Decimal:
    return next(item.price for item in catalog.DEMO_PRODUCTS if item.sku == sku)


@pytest.fixture
def state() -> EconomicState:
    return seeded_state(seed=3)


@pytest.fixture
async def client(state: EconomicState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=TOKENS) as http:
        yield http


@pytest.fixture
def customer_number(state: EconomicState) -> int:
    return add_customer(state, name="Anna Jensen", email="anna.jensen@example.dk")


def document(customer_number: int, *lines: dict[str, Any], vat_zone: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "date": "2024-10-24", "currency": "DKK", "customer": {"customerNumber": customer_number},
        "paymentTerms": {"paymentTermsNumber": 1}, "layout": {"layoutNumber": 19},
        "recipient": {"name": "Anna Jensen", "vatZone": {"vatZoneNumber": vat_zone}},
        "references": {"other": "WEB-1001"}, "lines": list(lines), **fields,
    }  # fmt: skip


def line(sku: str, quantity: Any, price: str | None = None, **fields: Any) -> dict[str, Any]:
    """A line; the price is written as text here and sent as a JSON number."""
    body = {"product": {"productNumber": sku}, "description": sku, "quantity": quantity, **fields}
    return body if price is None else {**body, "unitNetPrice": float(price)}


async def all_pages(client: httpx.AsyncClient, url: str, **params: Any) -> list[dict[str, Any]]:
    """Follow `nextPage` links the way clients do, collecting every item."""
    items, response = [], await client.get(url, params=params)
    for _ in range(MAX_PAGES):
        body = response.json()
        items += body["collection"]
        if "nextPage" not in body["pagination"]:
            return items
        response = await client.get(body["pagination"]["nextPage"])
    raise AssertionError(f"{url} still had a nextPage after {MAX_PAGES} pages")


# ---- auth, root, errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-AppSecretToken": DEMO_APP_SECRET_TOKEN}, {**TOKENS, "X-AgreementGrantToken": "revoked"}],
    ids=["none", "grant-missing", "grant-wrong"],
)
async def test_missing_or_wrong_tokens_answer_401_with_the_error_body(
    state: EconomicState, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(create_app(state)), base_url=BASE) as anonymous:
        response = await anonymous.get("/customers", headers=headers)
    assert response.status_code == 401
    assert response.json().keys() >= ERROR_FIELDS and response.json()["httpStatusCode"] == 401


async def test_demo_tokens_may_read_but_not_write(client: httpx.AsyncClient) -> None:
    demo = {"X-AppSecretToken": "demo", "X-AgreementGrantToken": "demo"}
    assert (await client.get("/vat-zones", headers=demo)).status_code == 200
    assert (await client.post("/customers", json={}, headers=demo)).status_code == 403


async def test_self_describes_the_agreement_and_root_lists_resources(client: httpx.AsyncClient) -> None:
    agreement = (await client.get("/self")).json()
    assert agreement["self"] == f"{BASE}/self" and agreement["company"]["name"]
    hrefs = {item["href"] for item in (await client.get("/")).json()["resources"]}
    assert {f"{BASE}/customers", f"{BASE}/invoices/booked", f"{BASE}/orders/drafts"} <= hrefs


async def test_unknown_resources_and_verbs_answer_with_the_error_body(client: httpx.AsyncClient) -> None:
    missing, wrong_verb = await client.get("/customers/999"), await client.put("/customers", json={})
    assert (missing.status_code, missing.json()["message"]) == (404, "Resource not found.")
    assert (wrong_verb.status_code, wrong_verb.json()["httpStatusCode"]) == (405, 405)


async def test_bodies_that_are_not_json_are_refused(client: httpx.AsyncClient) -> None:
    plain = await client.post("/customers", content=b"name=x", headers={"Content-Type": "text/plain"})
    broken = await client.post("/customers", content=b"{", headers={"Content-Type": "application/json"})
    assert (plain.status_code, broken.status_code) == (415, 400)


# ---- seed, paging, filter, sort ---------------------------------------------------------------


async def test_seed_holds_the_reference_data_and_one_product_per_catalog_sku(client: httpx.AsyncClient) -> None:
    zones = {item["vatZoneNumber"]: item["name"] for item in await all_pages(client, "/vat-zones")}
    assert zones[1] == "Domestic" and sorted(zones) == [1, 2, 3, 4]
    layouts = [item["layoutNumber"] for item in await all_pages(client, "/layouts")]
    assert layouts == [19, 20, 21]
    products = {item["productNumber"]: item for item in await all_pages(client, "/products", pagesize=1000)}
    assert set(products) == {*catalog.all_skus(), "SHIPPING", "FEE", "DISCOUNT", "DISCOUNT0", "ROUNDING"}
    assert money(products["GIFTCARD"]["salesPrice"]) == catalog_price("GIFTCARD")
    assert products["GIFTCARD"]["productGroup"]["productGroupNumber"] == 2
    assert products["MUG-01"]["productGroup"]["productGroupNumber"] == 1
    assert (await client.get("/customers")).json()["collection"] == []


async def test_following_next_page_visits_every_product_once(client: httpx.AsyncClient, state: EconomicState) -> None:
    items = await all_pages(client, "/products", pagesize=3)
    assert sorted(item["productNumber"] for item in items) == sorted(state.tables["products"])


async def test_collection_envelope_reports_counts_and_links(client: httpx.AsyncClient, state: EconomicState) -> None:
    body = (await client.get("/products", params={"pagesize": 5, "skippages": 1})).json()
    total = len(state.tables["products"])
    pagination = body["pagination"]
    assert (pagination["results"], pagination["resultsWithoutFilter"], len(body["collection"])) == (total, total, 5)
    assert pagination["lastPage"] == f"{BASE}/products?skippages={(total - 1) // 5}&pagesize=5"
    assert body["self"] == f"{BASE}/products?skippages=1&pagesize=5"
    assert (await client.get("/products", params={"pagesize": 1001})).status_code == 400


async def test_filter_is_applied_counted_and_carried_into_links(
    client: httpx.AsyncClient, state: EconomicState
) -> None:
    body = (await client.get("/products", params={"filter": "name$like:t-shirt", "pagesize": 4})).json()
    tees = [sku for sku in catalog.all_skus() if sku.startswith("TEE-")]
    assert body["pagination"]["results"] == len(tees)
    assert body["pagination"]["resultsWithoutFilter"] == len(state.tables["products"])
    assert "filter=name%24like%3At-shirt" not in body["pagination"]["nextPage"]
    assert "filter=name$like:t-shirt" in body["pagination"]["nextPage"]
    followed = await all_pages(client, "/products", filter="name$like:t-shirt", pagesize=4)
    assert sorted(item["productNumber"] for item in followed) == sorted(tees)


async def test_filtering_on_a_property_that_is_not_filterable_answers_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/products", params={"filter": "secretSauce$eq:1"})
    assert response.status_code == 400 and "secretSauce" in response.json()["message"]


async def test_sort_descending_then_ascending(client: httpx.AsyncClient, state: EconomicState) -> None:
    items = await all_pages(client, "/products", sort="-salesPrice,productNumber", pagesize=1000)
    expected = sorted(state.tables["products"].values(), key=lambda p: (-p["salesPrice"], p["productNumber"]))
    assert [item["productNumber"] for item in items] == [p["productNumber"] for p in expected]


# ---- customers --------------------------------------------------------------------------------


CUSTOMER = {"name": "Acme ApS", "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
            "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1},
            "email": "ap@acme.dk"}  # fmt: skip


async def test_customer_lifecycle_create_read_replace_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/customers", json={**CUSTOMER, "barred": False})
    assert created.status_code == 201
    number = created.json()["customerNumber"]
    assert created.headers["Location"] == created.json()["self"] == f"{BASE}/customers/{number}"
    assert "barred" not in created.json()
    replaced = await client.put(f"/customers/{number}", json={**CUSTOMER, "name": "Acme A/S", "barred": True})
    assert (replaced.status_code, replaced.json()["name"], replaced.json()["barred"]) == (200, "Acme A/S", True)
    assert (await client.get(f"/customers/{number}")).json()["name"] == "Acme A/S"
    assert (await client.delete(f"/customers/{number}")).status_code == 204
    assert (await client.delete(f"/customers/{number}")).status_code == 404


async def test_customer_numbers_are_assigned_or_taken_from_the_body(client: httpx.AsyncClient) -> None:
    first = (await client.post("/customers", json=CUSTOMER)).json()["customerNumber"]
    chosen = await client.post("/customers", json={**CUSTOMER, "customerNumber": first + 10})
    assert chosen.json()["customerNumber"] == first + 10
    clash = await client.post("/customers", json={**CUSTOMER, "customerNumber": first})
    assert clash.status_code == 400


async def test_customer_without_required_fields_gets_annotated_errors(client: httpx.AsyncClient) -> None:
    response = await client.post("/customers", json={"email": "x@example.dk"})
    assert response.status_code == 400
    assert {"name", "currency", "customerGroup", "paymentTerms", "vatZone"} <= response.json()["errors"].keys()


async def test_customer_with_unknown_references_gets_e06000(client: httpx.AsyncClient) -> None:
    response = await client.post("/customers", json={**CUSTOMER, "currency": "ZUL", "vatZone": {"vatZoneNumber": 9}})
    errors = response.json()["errors"]
    expected = {"message": "currency does not exist.", "errorCode": "E06000", "value": "ZUL"}
    assert errors["currency"]["errors"][0] == expected
    assert errors["vatZone"]["errors"][0]["errorCode"] == "E06000"


async def test_json_null_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/customers", json={**CUSTOMER, "email": None})
    assert response.status_code == 400 and "email" in response.json()["errors"]


async def test_customers_can_be_found_by_email_filter(client: httpx.AsyncClient, customer_number: int) -> None:
    body = (await client.get("/customers", params={"filter": "email$eq:ANNA.JENSEN@example.dk"})).json()
    assert [item["customerNumber"] for item in body["collection"]] == [customer_number]


# ---- products ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["A/B_C.1 x", "50%+tax?#1", "Æble<2>:&\\*"])
async def test_product_numbers_with_special_characters_are_addressed_encoded(
    client: httpx.AsyncClient, number: str
) -> None:
    body = {"productNumber": number, "name": "Odd", "salesPrice": 10, "productGroup": {"productGroupNumber": 1}}
    created = await client.post("/products", json=body)
    assert created.status_code == 201
    assert created.json()["self"] == f"{BASE}/products/{encode_id(number)}"
    fetched = await client.get(created.json()["self"])
    assert fetched.json()["productNumber"] == number
    assert (await client.put(created.json()["self"], json={**body, "name": "Even"})).json()["name"] == "Even"
    assert (await client.delete(created.json()["self"])).status_code == 204


async def test_product_in_use_on_a_document_cannot_be_deleted(client: httpx.AsyncClient, customer_number: int) -> None:
    await client.post("/invoices/drafts", json=document(customer_number, line("CAP-01", 1)))
    assert (await client.delete("/products/CAP-01")).status_code == 400


# ---- documents --------------------------------------------------------------------------------


async def test_invoice_totals_take_vat_per_line_from_the_product_group(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    mug, card = catalog_price("MUG-01"), catalog_price("GIFTCARD")
    body = document(customer_number, line("MUG-01", 3, discountPercentage=10), line("GIFTCARD", 1))
    created = (await client.post("/invoices/drafts", json=body)).json()
    mug_net = round2(3 * mug * Decimal("0.9"))
    assert [money(item["totalNetAmount"]) for item in created["lines"]] == [mug_net, card]
    assert money(created["netAmount"]) == mug_net + card
    assert money(created["vatAmount"]) == round2(mug_net * Decimal("0.25"))
    assert money(created["grossAmount"]) == mug_net + card + round2(mug_net * Decimal("0.25"))
    instructions = f"{BASE}/invoices/drafts/{created['draftInvoiceNumber']}/templates/booking-instructions"
    assert created["templates"]["bookingInstructions"] == instructions


async def test_vat_is_rounded_per_line_before_summing(client: httpx.AsyncClient, customer_number: int) -> None:
    body = document(customer_number, line("FEE", 1, "0.10"), line("FEE", 1, "0.10"))
    created = (await client.post("/invoices/drafts", json=body)).json()
    assert money(created["vatAmount"]) == 2 * round2(Decimal("0.10") * Decimal("0.25"))


@pytest.mark.parametrize("zone", [2, 3, 4])
async def test_foreign_and_exempt_vat_zones_carry_no_vat(
    client: httpx.AsyncClient, customer_number: int, zone: int
) -> None:
    body = document(customer_number, line("MUG-01", 2), vat_zone=zone)
    created = (await client.post("/invoices/drafts", json=body)).json()
    assert money(created["vatAmount"]) == 0
    assert money(created["grossAmount"]) == money(created["netAmount"]) == 2 * catalog_price("MUG-01")


async def test_foreign_currency_amounts_are_converted_to_base_currency(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    body = document(customer_number, line("MUG-01", 1, "10.00"), currency="EUR", exchangeRate=745.5)
    created = (await client.post("/invoices/drafts", json=body)).json()
    assert money(created["grossAmountInBaseCurrency"]) == round2(Decimal("12.50") * Decimal("7.455"))


async def test_numbers_and_links_in_a_posted_document_are_ignored(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    first = (await client.post("/invoices/drafts", json=document(customer_number))).json()
    copied = await client.post("/invoices/drafts", json=first)
    assert copied.status_code == 201
    assert copied.json()["draftInvoiceNumber"] == first["draftInvoiceNumber"] + 1
    assert (await client.get(first["self"])).json()["draftInvoiceNumber"] == first["draftInvoiceNumber"]


async def test_document_without_required_fields_names_each_one(client: httpx.AsyncClient) -> None:
    response = await client.post("/orders/drafts", json={"lines": []})
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"currency", "customer", "date", "layout", "paymentTerms", "recipient"} <= errors.keys()
    nameless = await client.post("/orders/drafts", json={"recipient": {}})
    assert {"name", "vatZone"} <= nameless.json()["errors"]["recipient"].keys()


async def test_document_line_errors_are_annotated_by_array_index(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    bad_lines = (line("MUG-01", 1, "1.00"), line("MUG-01", 1, "10.12345"), {"product": {"productNumber": "NOPE"},
                 "description": "x", "quantity": 1}, {"product": {"productNumber": "MUG-01"}, "description": "x"},
                 {"product": {}, "description": "x", "quantity": 1})  # fmt: skip
    response = await client.post("/invoices/drafts", json=document(customer_number, *bad_lines))
    lines = {item["arrayIndex"]: item for item in response.json()["errors"]["lines"]}
    assert sorted(lines) == [1, 2, 3, 4]
    assert lines[1]["unitNetPrice"]["errors"][0]["errorCode"] == "E04740"
    assert lines[2]["product"]["errors"][0]["errorCode"] == "E06000"
    assert lines[3]["quantity"]["errors"][0]["errorCode"] == "E04730"
    assert lines[4]["product"]["errors"][0]["errorCode"] == "E04500"


async def test_document_referencing_missing_entities_gets_e06000(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    body = document(customer_number + 1, line("MUG-01", 1), layout={"layoutNumber": 99})
    errors = (await client.post("/invoices/drafts", json=body)).json()["errors"]
    assert errors["customer"]["errors"][0]["errorCode"] == errors["layout"]["errors"][0]["errorCode"] == "E06000"


async def test_external_reference_longer_than_250_characters_is_refused(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    body = document(customer_number, line("MUG-01", 1), references={"other": "x" * 251})
    assert "references" in (await client.post("/invoices/drafts", json=body)).json()["errors"]
    body["references"]["other"] = "x" * 250
    assert (await client.post("/invoices/drafts", json=body)).status_code == 201


async def test_order_draft_lifecycle(client: httpx.AsyncClient, customer_number: int) -> None:
    created = await client.post("/orders/drafts", json=document(customer_number, line("CAP-01", 2)))
    number = created.json()["orderNumber"]
    assert created.status_code == 201 and created.headers["Location"] == f"{BASE}/orders/drafts/{number}"
    replaced = await client.put(f"/orders/drafts/{number}", json=document(customer_number, line("CAP-01", 1)))
    assert money(replaced.json()["netAmount"]) == catalog_price("CAP-01")
    sent = await client.post("/orders/sent", json={**replaced.json(), "orderNumber": number})
    assert sent.status_code == 201 and (await client.get(f"/orders/drafts/{number}")).status_code == 404
    assert (await client.get(f"/orders/sent/{number}")).json()["orderNumber"] == number


async def test_deleting_a_draft_invoice_reports_what_was_deleted(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    number = (await client.post("/invoices/drafts", json=document(customer_number))).json()["draftInvoiceNumber"]
    deleted = (await client.delete(f"/invoices/drafts/{number}")).json()
    assert (deleted["deletedCount"], deleted["deletedItems"][0]["draftInvoiceNumber"]) == (1, number)
    assert (await client.delete(f"/invoices/drafts/{number}")).status_code == 404


# ---- booking ----------------------------------------------------------------------------------


async def draft_number(client: httpx.AsyncClient, customer_number: int, reference: str = "WEB-1001") -> int:
    body = document(customer_number, line("MUG-01", 2), line("GIFTCARD", 1), references={"other": reference})
    return int((await client.post("/invoices/drafts", json=body)).json()["draftInvoiceNumber"])


def booking(draft: int) -> dict[str, Any]:
    return {"draftInvoice": {"draftInvoiceNumber": draft}}


async def book(client: httpx.AsyncClient, draft: int, **extra: Any) -> httpx.Response:
    return await client.post("/invoices/booked", json={**booking(draft), **extra})


async def test_booking_a_draft_replaces_it_with_a_booked_invoice(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    number = await draft_number(client, customer_number)
    draft = (await client.get(f"/invoices/drafts/{number}")).json()
    instructions = (await client.get(draft["templates"]["bookingInstructions"])).json()
    booked = await client.post("/invoices/booked", json={"draftInvoice": instructions["draftInvoice"]})
    assert booked.status_code == 201
    invoice = booked.json()
    assert (await client.get(f"/invoices/drafts/{number}")).status_code == 404
    assert invoice["references"]["other"] == "WEB-1001"
    assert money(invoice["remainder"]) == money(invoice["grossAmount"]) == money(draft["grossAmount"])
    assert [money(item["vatRate"]) for item in invoice["lines"]] == [25, 0]
    assert sum(money(item["vatAmount"]) for item in invoice["lines"]) == money(invoice["vatAmount"])
    located = (await client.get(booked.headers["Location"])).json()
    assert located["bookedInvoiceNumber"] == invoice["bookedInvoiceNumber"]


async def test_booked_numbers_are_sequential_unless_chosen(client: httpx.AsyncClient, customer_number: int) -> None:
    numbers = []
    for wanted in (None, None, 500, None):
        extra = {"bookWithNumber": wanted} if wanted else {}
        booked = await book(client, await draft_number(client, customer_number), **extra)
        numbers.append(booked.json()["bookedInvoiceNumber"])
    assert numbers[1] == numbers[0] + 1 and numbers[2] == 500 and numbers[3] == numbers[1] + 1


async def test_booking_with_a_taken_number_is_refused_and_keeps_the_draft(
    client: httpx.AsyncClient, customer_number: int
) -> None:
    first = await draft_number(client, customer_number, "WEB-1")
    await book(client, first, bookWithNumber=31)
    second = await draft_number(client, customer_number, "WEB-2")
    clash = await book(client, second, bookWithNumber=31)
    assert clash.status_code == 400 and "bookWithNumber" in clash.json()["errors"]
    assert (await client.get(f"/invoices/drafts/{second}")).status_code == 200


async def test_put_books_with_the_number_in_the_url(client: httpx.AsyncClient, customer_number: int) -> None:
    number = await draft_number(client, customer_number)
    mismatch = await client.put("/invoices/booked/77", json={**booking(number), "bookWithNumber": 78})
    assert mismatch.status_code == 400
    booked = await client.put("/invoices/booked/77", json=booking(number))
    assert (booked.status_code, booked.json()["bookedInvoiceNumber"]) == (201, 77)


async def test_booking_an_unknown_draft_is_refused(client: httpx.AsyncClient) -> None:
    response = await book(client, 404)
    assert response.json()["errors"]["draftInvoice"]["errors"][0]["errorCode"] == "E06000"


# ---- references -------------------------------------------------------------------------------


async def test_documents_are_found_by_external_reference_in_every_collection(
    client: httpx.AsyncClient, state: EconomicState, customer_number: int
) -> None:
    reference = "acme/1/A(1)*,$[x]"
    escaped = "acme/1/A$(1$)$*$,$$$[x$]"
    order_body = document(customer_number, references={"other": reference})
    order = (await client.post("/orders/drafts", json=order_body)).json()
    await book(client, await draft_number(client, customer_number, reference))
    await draft_number(client, customer_number, "acme/1/other")
    state.tables["orders/archived"][900] = {**state.tables["orders/drafts"][order["orderNumber"]], "orderNumber": 900}
    found = {}
    for collection in ("orders/drafts", "orders/archived", "invoices/drafts", "invoices/booked"):
        body = (await client.get(f"/{collection}", params={"filter": f"references.other$eq:{escaped}"})).json()
        found[collection] = len(body["collection"])
    assert found == {"orders/drafts": 1, "orders/archived": 1, "invoices/drafts": 0, "invoices/booked": 1}


async def test_documents_by_reference_lists_every_copy_and_the_state_endpoint_flags_duplicates(
    client: httpx.AsyncClient, state: EconomicState, customer_number: int
) -> None:
    first = await draft_number(client, customer_number, "WEB-9")
    second = await draft_number(client, customer_number, "WEB-9")
    await draft_number(client, customer_number, "WEB-10")
    booked = (await book(client, first)).json()
    listed = documents_by_reference(state)
    assert listed["WEB-9"] == [("invoices/drafts", second), ("invoices/booked", booked["bookedInvoiceNumber"])]
    assert len(listed["WEB-10"]) == 1
    sandbox = (await client.get("/_sandbox/state")).json()
    assert set(sandbox["duplicateReferences"]) == {"WEB-9"}
    assert sandbox["counts"]["invoices/drafts"] == 2 and sandbox["counts"]["invoices/booked"] == 1


async def test_state_helpers_add_products_and_return_stored_documents(
    client: httpx.AsyncClient, state: EconomicState, customer_number: int
) -> None:
    add_product(state, "NEW-SKU", "New product", Decimal("80.00"), group=2)
    created = (await client.post("/invoices/drafts", json=document(customer_number, line("NEW-SKU", 2)))).json()
    stored = get_document(state, "invoices/drafts", created["draftInvoiceNumber"])
    assert (stored["grossAmount"], stored["vatAmount"]) == (Decimal("160.00"), Decimal("0.00"))
    assert find_document(state, "invoices/booked", created["draftInvoiceNumber"]) is None
    with pytest.raises(KeyError):
        get_document(state, "orders/drafts", 1)


# ---- rate limits and faults -------------------------------------------------------------------


async def test_token_bucket_answers_429_with_retry_after_until_refilled(
    state: EconomicState, client: httpx.AsyncClient
) -> None:
    now = [0.0]
    state.rate_limit = TokenBucket(capacity=2, refill_per_second=0.5, clock=lambda: now[0])
    statuses = [(await client.get("/units")).status_code for _ in range(3)]
    limited = await client.get("/units")
    assert statuses == [200, 200, 429] and limited.headers["Retry-After"] == "2"
    assert limited.json()["httpStatusCode"] == 429
    now[0] += 2.0
    assert (await client.get("/units")).status_code == 200


async def test_fault_rule_answers_429_with_retry_after_and_the_error_body(
    state: EconomicState, client: httpx.AsyncClient
) -> None:
    state.faults.add(FaultRule(kind="status", status=429, retry_after=3, path="/invoices", times=1))
    limited = await client.get("/invoices/drafts")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert limited.json().keys() >= ERROR_FIELDS
    assert (await client.get("/invoices/drafts")).status_code == 200


async def test_log_times_come_from_the_state_clock(state: EconomicState, client: httpx.AsyncClient) -> None:
    state.clock = lambda: datetime(2024, 10, 24, 14, 26, 57, tzinfo=UTC)
    assert (await client.get("/customers/1")).json()["logTime"] == "2024-10-24T14:26:57"


# ---- real HTTP --------------------------------------------------------------------------------


async def test_order_to_booked_invoice_over_loopback_http(state: EconomicState) -> None:
    with serving(create_app(state)) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=TOKENS) as http:
            customer = (await http.post("/customers", json=CUSTOMER)).json()
            number = (await http.post("/products", json={"productNumber": "Ø 1/2", "name": "Half",
                      "salesPrice": 8, "productGroup": {"productGroupNumber": 1}})).json()["productNumber"]  # fmt: skip
            product = await http.get(f"/products/{encode_id(number)}")
            body = document(customer["customerNumber"], line(number, 2), references={"other": "WEB-LOOP"})
            draft = (await http.post("/invoices/drafts", json=body)).json()
            booked = await book(http, draft["draftInvoiceNumber"])
    assert customer["self"].startswith(server.url) and product.json()["productNumber"] == "Ø 1/2"
    assert money(booked.json()["grossAmount"]) == Decimal("20.00")
    assert documents_by_reference(state)["WEB-LOOP"] == [("invoices/booked", booked.json()["bookedInvoiceNumber"])]


async def test_delayed_visibility_keeps_a_new_document_out_of_filtered_lists_for_a_while(
    state: EconomicState, client: httpx.AsyncClient, customer_number: int
) -> None:
    state.faults.add(FaultRule(kind="delayed_visibility", path="/invoices/drafts", seconds=0.5))
    created = await client.post("/invoices/drafts", json=document(customer_number, line("MUG-01", 1)))
    assert created.status_code == 201
    number = created.json()["draftInvoiceNumber"]
    by_reference = {"filter": "references.other$eq:WEB-1001"}
    assert (await client.get("/invoices/drafts", params=by_reference)).json()["collection"] == []
    assert (await client.get(f"/invoices/drafts/{number}")).status_code == 200  # it exists all the same
    await asyncio.sleep(0.6)
    listed = (await client.get("/invoices/drafts", params=by_reference)).json()["collection"]
    assert [item["draftInvoiceNumber"] for item in listed] == [number]
