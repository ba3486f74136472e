"""The Hogia emulator: OAuth2 tokens, api-version, ProblemDetails, contacts, invoices, payments, faults."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shopbridge.sandbox import catalog, hogia
from shopbridge.sandbox.faults import FaultRule
from shopbridge.sandbox.registry import build_emulator
from shopbridge.sandbox.server import serving

ORG = hogia.DEMO_ORGANIZATION_ID
VERSION = {"api-version": "2025-03-21"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def state() -> hogia.HogiaState:
    seeded = hogia.seeded_state(seed=3)
    seeded.clock = Clock()
    return seeded


@pytest.fixture
async def http(state: hogia.HogiaState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(hogia.create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://hogia.test") as client:
        yield client


async def token(http: httpx.AsyncClient, secret: str = hogia.DEMO_CLIENT_SECRET) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": hogia.DEMO_CLIENT_ID, "client_secret": secret}
    return await http.post(hogia.TOKEN_PATH, data=form)


@pytest.fixture
async def api(http: httpx.AsyncClient) -> httpx.AsyncClient:
    """The same client, authorised with a fresh bearer token."""
    http.headers["Authorization"] = f"Bearer {(await token(http)).json()['access_token']}"
    return http


def sequence() -> str:
    return str(uuid.uuid4())


async def new_contact(api: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"sequenceId": sequence(), "givenName": "Anna", "surName": "Jensen",
            "contactChannels": [{"type": "Email", "value": "anna@example.se"}]} | fields  # fmt: skip
    response = await api.post(f"/{ORG}/contacts", params=VERSION, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def invoice_body(customer: str, *lines: dict[str, Any], reference: str = "acme/1/1") -> dict[str, Any]:
    header = {"customerNumber": customer, "invoiceDate": "2025-03-01", "externalReference": reference}
    return {"sequenceId": sequence(), "customerInvoice": header,
            "invoiceLines": [{"invoiceLine": item} for item in lines]}  # fmt: skip


async def new_invoice(api: httpx.AsyncClient, *lines: dict[str, Any], reference: str = "acme/1/1") -> dict[str, Any]:
    customer = (await new_contact(api))["number"]
    response = await api.post(f"/{ORG}/customerinvoices", params=VERSION, json=invoice_body(customer, *lines,
                              reference=reference))  # fmt: skip
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- OAuth2 and the gate every call passes --------------------------------------------------------


async def test_client_credentials_give_an_expiring_bearer_token(http: httpx.AsyncClient) -> None:
    answer = (await token(http)).json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600 and answer["access_token"]


async def test_basic_authentication_of_the_client_is_accepted(http: httpx.AsyncClient) -> None:
    basic = base64.b64encode(f"{hogia.DEMO_CLIENT_ID}:{hogia.DEMO_CLIENT_SECRET}".encode()).decode()
    response = await http.post(hogia.TOKEN_PATH, data={"grant_type": "client_credentials"},
                               headers={"Authorization": f"Basic {basic}"})  # fmt: skip
    assert response.status_code == 200


async def test_a_wrong_secret_is_an_invalid_client(http: httpx.AsyncClient) -> None:
    response = await token(http, "wrong")
    assert (response.status_code, response.json()) == (400, {"error": "invalid_client"})


async def test_another_grant_type_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(hogia.TOKEN_PATH, data={"grant_type": "password"})
    assert response.json() == {"error": "unsupported_grant_type"}


async def test_a_call_without_a_token_is_401_problem_details(http: httpx.AsyncClient) -> None:
    response = await http.get(f"/{ORG}/vatcodes", params=VERSION)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "traceId"} <= response.json().keys()


async def test_a_token_stops_working_when_it_expires(state: hogia.HogiaState, api: httpx.AsyncClient) -> None:
    assert (await api.get(f"/{ORG}/vatcodes", params=VERSION)).status_code == 200
    assert isinstance(state.clock, Clock)
    state.clock.now += timedelta(seconds=state.token_lifetime)
    response = await api.get(f"/{ORG}/vatcodes", params=VERSION)
    assert response.status_code == 401 and "invalid_token" in response.headers["www-authenticate"]


async def test_another_organisation_is_forbidden(api: httpx.AsyncClient) -> None:
    response = await api.get(f"/{uuid.uuid4()}/vatcodes", params=VERSION)
    assert response.status_code == 403 and response.json()["status"] == 403


async def test_api_version_is_required_and_must_be_known(api: httpx.AsyncClient) -> None:
    missing = await api.get(f"/{ORG}/vatcodes")
    assert missing.status_code == 400 and "api-version" in missing.json()["errors"]
    assert (await api.get(f"/{ORG}/vatcodes", params={"api-version": "2020-01-01"})).status_code == 400
    assert (await api.get(f"/{ORG}/vatcodes", headers=VERSION)).status_code == 200


async def test_rate_limit_answers_429_with_retry_after(state: hogia.HogiaState, api: httpx.AsyncClient) -> None:
    state.rate_limit = hogia.TokenBucket(capacity=1, refill_per_second=0.5)
    assert (await api.get(f"/{ORG}/vatcodes", params=VERSION)).status_code == 200
    limited = await api.get(f"/{ORG}/vatcodes", params=VERSION)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"


async def test_injected_faults_answer_with_problem_details(state: hogia.HogiaState, api: httpx.AsyncClient) -> None:
    state.faults.add(FaultRule(kind="status", status=503, times=1))
    response = await api.get(f"/{ORG}/vatcodes", params=VERSION)
    assert response.status_code == 503 and response.json()["title"] == "Service Unavailable"


# --- reference data -----------------------------------------------------------------------------


async def test_vat_codes_are_the_swedish_rates_in_percent(api: httpx.AsyncClient) -> None:
    items = (await api.get(f"/{ORG}/vatcodes", params=VERSION)).json()["items"]
    assert {item["code"]: item["rate"] for item in items} == {"MP1": 25, "MP2": 12, "MP3": 6, "MF": 0}


async def test_articles_hold_every_demo_sku_and_the_fee_articles(api: httpx.AsyncClient) -> None:
    items = (await api.get(f"/{ORG}/articles", params=VERSION)).json()["items"]
    numbers = {item["number"] for item in items}
    assert set(catalog.all_skus()) | {"fraktavg", "expavg", "rabatt", "oresavr"} == numbers
    giftcard = next(item for item in items if item["number"] == "GIFTCARD")
    assert giftcard["vatCode"] == "MF"
    stock = (await api.get(f"/{ORG}/stockbalances", params=VERSION | {"articleNumber": "MUG-01"})).json()["items"]
    assert stock == [{"articleNumber": "MUG-01", "stockBalance": 100}]


async def test_pages_are_numbered_from_one_and_capped_at_500(api: httpx.AsyncClient) -> None:
    second = (await api.get(f"/{ORG}/vatcodes", params=VERSION | {"page": "2", "pageSize": "3"})).json()
    assert (second["page"], second["totalItems"], [item["code"] for item in second["items"]]) == (2, 4, ["MF"])
    assert (await api.get(f"/{ORG}/vatcodes", params=VERSION | {"pageSize": "501"})).status_code == 400
    assert (await api.get(f"/{ORG}/vatcodes", params=VERSION | {"page": "0"})).status_code == 400


# --- contacts -----------------------------------------------------------------------------------


async def test_contacts_are_numbered_and_found_by_email_ignoring_case(api: httpx.AsyncClient) -> None:
    created = await new_contact(api)
    assert created["number"] == "1001" and created["organizationId"] == ORG
    found = (await api.get(f"/{ORG}/contacts", params=VERSION | {"email": "ANNA@example.se"})).json()["items"]
    assert [item["id"] for item in found] == [created["id"]]
    assert (await api.get(f"/{ORG}/contacts/{created['id']}", params=VERSION)).json()["number"] == "1001"


async def test_an_organisation_is_found_by_its_identification_number(api: httpx.AsyncClient) -> None:
    await new_contact(api, isOrganization=True, companyName="Företag AB", identificationNumber="556677-8899")
    found = (await api.get(f"/{ORG}/contacts", params=VERSION | {"identificationNumber": "556677-8899"})).json()
    assert [item["companyName"] for item in found["items"]] == ["Företag AB"]


async def test_invalid_contacts_list_every_field_error(api: httpx.AsyncClient) -> None:
    body = {"sequenceId": "not-a-guid", "isOrganization": True, "countryCode": "Sweden",
            "contactChannels": [{"type": "Fax", "value": "1"}]}  # fmt: skip
    response = await api.post(f"/{ORG}/contacts", params=VERSION, json=body)
    assert response.status_code == 400
    assert {"sequenceId", "companyName", "countryCode", "contactChannels[0].type"} <= response.json()["errors"].keys()


async def test_a_taken_contact_number_is_refused(api: httpx.AsyncClient) -> None:
    await new_contact(api, number="77")
    response = await api.post(f"/{ORG}/contacts", params=VERSION, json={"sequenceId": sequence(), "givenName": "B",
                              "number": "77"})  # fmt: skip
    assert response.status_code == 400 and "number" in response.json()["errors"]


async def test_a_reused_sequence_id_is_a_conflict(api: httpx.AsyncClient) -> None:
    created = await new_contact(api)
    again = await api.post(f"/{ORG}/contacts", params=VERSION, json={"sequenceId": created["sequenceId"],
                           "givenName": "B"})  # fmt: skip
    assert again.status_code == 409


# --- customer invoices --------------------------------------------------------------------------


async def test_invoice_amounts_are_rounded_per_line_to_the_ore(api: httpx.AsyncClient) -> None:
    invoice = await new_invoice(
        api,
        {"itemNumber": "BAG-TOTE", "quantity": 3},  # 299.97 net, 74.99 VAT (74.9925)
        {"itemNumber": "fraktavg", "quantity": 1, "unitPrice": 39.20},
        {"itemNumber": "rabatt", "quantity": 1, "unitPrice": -10, "vatCode": "MP1"},
        {"description": "Thank you for your order"},
    )
    header = invoice["invoiceHeader"]
    assert [line.get("netAmount") for line in invoice["invoiceLines"]] == [299.97, 39.2, -10, None]
    assert (header["netAmount"], header["vatAmount"], header["grossAmount"]) == (329.17, 82.29, 411.46)
    assert invoice["customerInvoiceState"] == "Draft" and invoice["invoiceNumber"] is None
    assert invoice["amountLeftToPay"] == 411.46


async def test_an_unknown_article_or_vat_code_is_a_validation_error(api: httpx.AsyncClient) -> None:
    customer = (await new_contact(api))["number"]
    body = invoice_body(customer, {"itemNumber": "MUG-01", "quantity": 1},
                        {"itemNumber": "NOPE", "quantity": 1}, {"itemNumber": "MUG-01", "quantity": 1, "vatCode": "X"})
    response = await api.post(f"/{ORG}/customerinvoices", params=VERSION, json=body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"invoiceLines[1].invoiceLine.itemNumber",
                                              "invoiceLines[2].invoiceLine.vatCode"}  # fmt: skip


async def test_an_unknown_customer_is_a_validation_error(api: httpx.AsyncClient) -> None:
    response = await api.post(f"/{ORG}/customerinvoices", params=VERSION,
                              json=invoice_body("999", {"itemNumber": "MUG-01", "quantity": 1}))  # fmt: skip
    assert "customerInvoice.customerNumber" in response.json()["errors"]


async def test_invoices_are_found_by_external_reference_ignoring_case(api: httpx.AsyncClient) -> None:
    invoice = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1}, reference="Acme/1/7")
    found = (await api.get(f"/{ORG}/customerinvoices", params=VERSION | {"externalReference": "acme/1/7"})).json()
    assert [item["id"] for item in found["items"]] == [invoice["id"]]


async def test_booking_numbers_the_invoice_once(api: httpx.AsyncClient) -> None:
    invoice = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1})
    booked = (await api.post(f"/{ORG}/customerinvoices/{invoice['id']}/book", params=VERSION)).json()
    again = (await api.post(f"/{ORG}/customerinvoices/{invoice['id']}/book", params=VERSION)).json()
    assert (booked["customerInvoiceState"], booked["invoiceNumber"], again["invoiceNumber"]) == ("Booked", 5001, 5001)


async def test_only_drafts_can_be_deleted(state: hogia.HogiaState, api: httpx.AsyncClient) -> None:
    draft = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1}, reference="r/1")
    booked = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1}, reference="r/2")
    await api.post(f"/{ORG}/customerinvoices/{booked['id']}/book", params=VERSION)
    assert (await api.delete(f"/{ORG}/customerinvoices/{draft['id']}", params=VERSION)).status_code == 204
    assert (await api.delete(f"/{ORG}/customerinvoices/{booked['id']}", params=VERSION)).status_code == 409
    assert (await api.get(f"/{ORG}/customerinvoices/{draft['id']}", params=VERSION)).status_code == 404
    assert hogia.documents_by_reference(state) == {"r/2": [("booked_invoice", "5001")]}


async def test_payments_reduce_what_is_left_to_pay(api: httpx.AsyncClient) -> None:
    invoice = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1})  # 99.00 gross
    path = f"/{ORG}/customerinvoices/{invoice['id']}/payments"
    payment = {"payer": "Customer", "date": "2025-03-02", "amount": 40, "accountNumber": "1930"}
    assert (await api.post(path, params=VERSION, json=payment)).status_code == 400  # still a draft
    await api.post(f"/{ORG}/customerinvoices/{invoice['id']}/book", params=VERSION)
    assert (await api.post(path, params=VERSION, json=payment)).status_code == 201
    assert (await api.post(path, params=VERSION, json=payment | {"amount": 60})).status_code == 400  # over
    assert (await api.post(path, params=VERSION, json=payment | {"amount": 59})).status_code == 201
    paid = (await api.get(f"/{ORG}/customerinvoices/{invoice['id']}", params=VERSION)).json()
    assert (paid["amountPaid"], paid["amountLeftToPay"], paid["isClosed"]) == (99, 0, True)
    assert [item["amount"] for item in (await api.get(path, params=VERSION)).json()] == [40, 59]


async def test_documents_by_reference_lists_every_invoice_oldest_first(
    state: hogia.HogiaState, api: httpx.AsyncClient
) -> None:
    first = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1}, reference="dup")
    second = await new_invoice(api, {"itemNumber": "MUG-01", "quantity": 1}, reference="dup")
    assert hogia.documents_by_reference(state) == {"dup": [("draft_invoice", first["id"]),
                                                           ("draft_invoice", second["id"])]}  # fmt: skip


# --- serving ------------------------------------------------------------------------------------


def test_sandbox_registry_serves_hogia_over_loopback() -> None:
    emulator = build_emulator("hogia", seed=1)
    assert emulator.credentials["client_id"] == hogia.DEMO_CLIENT_ID
    with serving(emulator.app) as server, httpx.Client(base_url=server.url) as http:
        form = {"grant_type": "client_credentials", "client_id": emulator.credentials["client_id"],
                "client_secret": emulator.credentials["client_secret"]}  # fmt: skip
        bearer = http.post(hogia.TOKEN_PATH, data=form).json()["access_token"]
        organization = emulator.credentials["organization_id"]
        response = http.get(f"/{organization}/articles", params=VERSION | {"number": "mug-01"},
                            headers={"Authorization": f"Bearer {bearer}"})  # fmt: skip
    assert [item["number"] for item in response.json()["items"]] == ["MUG-01"]
    assert '"unitPrice":79.20' in response.text  # amounts are written exactly, never through a float
