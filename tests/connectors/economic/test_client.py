"""Unit tests of the e-conomic wire client: encodings, paging and the translation of failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from shopbridge.connectors.economic.client import (
    EconomicClient,
    describe_error_body,
    dump_json,
    encode_product_number,
    escape_filter_value,
    retry_after_seconds,
)
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError

BASE = "https://restapi.e-conomic.com"
APP_TOKEN = "app-secret-7f3a9"
GRANT_TOKEN = "grant-token-5c2e1"
Handler = Callable[[httpx.Request], httpx.Response]

VALIDATION_BODY = {
    "message": "Validation error.",
    "developerHint": "Inspect validation errors and correct your request.",
    "logId": "8d79f54f226ebe44-CPH",
    "httpStatusCode": 400,
    "errors": {
        "currency": {"errors": [{"errorCode": "E06000", "message": "currency does not exist.", "value": "ZUL"}]},
        "lines": [
            {"arrayIndex": 0, "unitNetPrice": {"errors": [{"errorCode": "E04740", "message": "Too many decimals."}]}},
            {"arrayIndex": 1, "product": {"errors": [{"errorCode": "E04500", "message": "No identifiers present."}]}},
        ],
    },
}


def client_for(handler: Handler) -> EconomicClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return EconomicClient(http, BASE, APP_TOKEN, GRANT_TOKEN, page_size=2)


def answering(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
        return httpx.Response(status, content=content, headers=headers)

    return handler


def raising(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("number", "encoded"),
    [
        ("MUG-01", "MUG-01"),
        ("A_B", "A_8_B"),
        ("a<b>c*d%e:f&g/h\\i j?k.l#m+n", "a_0_b_1_c_2_d_3_e_4_f_5_g_6_h_7_i_9_j_10_k_11_l_12_m_13_n"),
        ("_/", "_8__6_"),
        ("Æble", "%C3%86ble"),
    ],
)
def test_product_numbers_are_encoded_for_urls_per_spec(number: str, encoded: str) -> None:
    assert encode_product_number(number) == encoded


@pytest.mark.parametrize(
    ("value", "escaped"),
    [("WEB-1001", "WEB-1001"), ("a$b", "a$$b"), ("(x),*[y]", "$(x$)$,$*$[y$]"), ("$(", "$$$(")],
)
def test_filter_values_escape_the_query_language_characters(value: str, escaped: str) -> None:
    assert escape_filter_value(value) == escaped


def test_json_writes_decimals_exactly_and_refuses_nulls_and_floats() -> None:
    assert dump_json({"unitNetPrice": Decimal("0.10"), "q": Decimal("1E+1"), "ok": True}) == (
        b'{"unitNetPrice":0.10,"q":10,"ok":true}'
    )
    for bad in (None, 0.1):
        with pytest.raises(TypeError):
            dump_json({"field": bad})


def test_annotated_errors_are_flattened_into_readable_paths() -> None:
    text = describe_error_body(VALIDATION_BODY)
    assert text.startswith("Validation error. (Inspect validation errors and correct your request.)")
    assert "currency: currency does not exist. (E06000, value ZUL)" in text
    assert "lines[0].unitNetPrice: Too many decimals. (E04740)" in text
    assert "lines[1].product: No identifiers present. (E04500)" in text


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2024, 10, 24, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 24 Oct 2024 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


async def test_every_request_carries_both_tokens_as_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"agreementNumber": 1})

    assert (await client_for(handler).get_self())["agreementNumber"] == 1
    assert seen[0].headers["X-AppSecretToken"] == APP_TOKEN
    assert seen[0].headers["X-AgreementGrantToken"] == GRANT_TOKEN
    assert seen[0].url == httpx.URL(f"{BASE}/self")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, DataError), (401, ConfigError), (403, ConfigError), (404, DataError), (500, TransientError),
     (503, TransientError)],
)  # fmt: skip
async def test_http_statuses_map_to_the_error_hierarchy(status: int, error_type: type[ShopBridgeError]) -> None:
    with pytest.raises(error_type) as caught:
        await client_for(answering(status, {"message": "nope"})).get_self()
    assert caught.value.status == status
    assert caught.value.operation == "GET /self"
    assert caught.value.system == "economic"


async def test_rate_limit_is_transient_with_retry_after() -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(answering(429, {"message": "slow down"}, {"Retry-After": "12"})).get_self()
    assert caught.value.retry_after == 12.0


async def test_validation_error_message_names_the_failing_fields() -> None:
    with pytest.raises(DataError) as caught:
        await client_for(answering(400, VALIDATION_BODY)).create_invoice_draft({"lines": []})
    assert "lines[1].product: No identifiers present. (E04500)" in str(caught.value)


async def test_tokens_never_appear_in_errors_even_when_echoed() -> None:
    echo = {"message": f"bad token {APP_TOKEN}", "developerHint": f"grant {GRANT_TOKEN} revoked"}
    with pytest.raises(ConfigError) as caught:
        await client_for(answering(401, echo)).get_self()
    shown = f"{caught.value} {caught.value.body_excerpt} {caught.value!r}"
    assert APP_TOKEN not in shown and GRANT_TOKEN not in shown


async def test_error_without_json_body_still_maps_by_status() -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(answering(502, b"<html>Bad gateway</html>")).get_self()
    assert "502" in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    ],
)
async def test_transport_failures_are_transient(failure: Exception) -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(raising(failure)).get_self()
    assert caught.value.operation == "GET /self"


async def test_unsupported_url_scheme_is_a_config_error() -> None:
    client = EconomicClient(httpx.AsyncClient(), "ftp://restapi.e-conomic.com", APP_TOKEN, GRANT_TOKEN)
    with pytest.raises(ConfigError):
        await client.get_self()


async def test_answer_cut_short_after_success_is_transient() -> None:
    with pytest.raises(TransientError):
        await client_for(answering(201, b'{"draftInvoiceNumber": 1')).create_invoice_draft({"lines": []})


async def test_amounts_are_read_as_decimals() -> None:
    payload = await client_for(answering(200, b'{"grossAmount": 124.99}')).get_self()
    assert payload["grossAmount"] == Decimal("124.99")


async def test_get_product_encodes_the_number_and_returns_none_on_404() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        if request.url.path.endswith("KNOWN"):
            return httpx.Response(200, json={"productNumber": "KNOWN", "productGroup": {"productGroupNumber": 1}})
        return httpx.Response(404, json={"message": "Resource not found.", "httpStatusCode": 404})

    client = client_for(handler)
    assert await client.get_product("A/B 1") is None
    assert (await client.get_product("KNOWN") or {})["productNumber"] == "KNOWN"
    assert paths == ["/products/A_6_B_9_1", "/products/KNOWN"]


def paged(items: list[dict[str, Any]], next_link: Callable[[int], str | None]) -> Handler:
    """A collection served two items a page, with `nextPage` links made by `next_link`."""

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["skippages"])
        size = int(request.url.params["pagesize"])
        body: dict[str, Any] = {"collection": items[page * size : (page + 1) * size], "pagination": {}}
        link = next_link(page) if (page + 1) * size < len(items) else None
        if link:
            body["pagination"]["nextPage"] = link
        return httpx.Response(200, json=body)

    return handler


async def test_collection_is_read_page_after_page_until_next_page_is_absent() -> None:
    items = [{"customerNumber": n} for n in range(1, 6)]
    handler = paged(items, lambda page: f"{BASE}/customers?skippages={page + 1}&pagesize=2&filter=x")
    found = [item async for item in client_for(handler).iter_collection("/customers", filter="x")]
    assert found == items


async def test_next_page_links_are_followed_on_our_own_host_only() -> None:
    hosts: list[str] = []
    items = [{"customerNumber": n} for n in range(1, 4)]
    next_page = paged(items, lambda page: f"https://elsewhere.example/customers?skippages={page + 1}&pagesize=2")

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return next_page(request)

    assert len([item async for item in client_for(handler).iter_collection("/customers")]) == 3
    assert set(hosts) == {"restapi.e-conomic.com"}


async def test_a_next_page_link_pointing_back_stops_the_loop() -> None:
    items = [{"customerNumber": n} for n in range(1, 10)]
    handler = paged(items, lambda page: f"{BASE}/customers?skippages=0&pagesize=2")
    with pytest.raises(TransientError):
        _ = [item async for item in client_for(handler).iter_collection("/customers")]


async def test_find_documents_filters_on_the_escaped_reference() -> None:
    filters: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        filters.append(request.url.params["filter"])
        return httpx.Response(200, json={"collection": [], "pagination": {}})

    await client_for(handler).find_documents("invoices/booked", "conn/shop/A(1)")
    assert filters == ["references.other$eq:conn/shop/A$(1$)"]


async def test_book_invoice_posts_the_draft_number_and_optional_booking_number() -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((request.method, request.url.path, json.loads(request.content)))
        return httpx.Response(201, json={"bookedInvoiceNumber": 31})

    client = client_for(handler)
    await client.book_invoice(148)
    await client.book_invoice(149, book_with_number=40)
    assert bodies == [
        ("POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": 148}}),
        ("POST", "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": 149}, "bookWithNumber": 40}),
    ]
