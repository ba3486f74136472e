"""Every path the Starweb emulator serves answers as Starweb's published OpenAPI document (2.11.0) says.

openapi-core reads `specs/starweb-openapi.json` and validates each response: status code declared
for that operation, body against its schema. Statuses the document declares nowhere (401 for a bad
token, 429 for the rate limit) are checked against its `ErrorModel`, the shape spec §4 gives every
error.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

from shopbridge.sandbox import starweb

from .support import BASE_URL, signed_in, token_form

# Starweb's own document, as shipped in its PHP SDK (resources/specification/openapi.json, v2.11.0).
SPEC_PATH = Path(__file__).with_name("starweb-openapi.json")


@cache
def document() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    spec["servers"] = [{"url": BASE_URL.rstrip("/")}]
    return spec


@cache
def openapi() -> OpenAPI:
    """The document without its OAuth2 security requirement, which openapi-core cannot check (it
    warns): the Bearer token is tested on its own below."""
    spec = json.loads(json.dumps(document()))
    spec.pop("security", None)
    for operations in spec["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return OpenAPI.from_dict(spec)


def conforms(response: httpx.Response, valid_request: bool = True) -> None:
    """The response is one the document allows for its request; a request meant to be valid is
    checked too, so the emulator is proven to accept what the document allows (deliberately bad
    requests skip that check)."""
    request = response.request
    url = urlsplit(str(request.url))
    request_type = request.headers.get("content-type", "application/json").split(";")[0]
    mock_request = MockRequest("http://shop.test", request.method, url.path,
                               args=dict(httpx.QueryParams(url.query)), headers=dict(request.headers),
                               data=request.content, content_type=request_type)  # fmt: skip
    content_type = response.headers.get("content-type", "application/json").split(";")[0]
    mock_response = MockResponse(response.content, status_code=response.status_code, content_type=content_type)
    if valid_request:
        openapi().validate_request(mock_request)
    openapi().validate_response(mock_request, mock_response)


def is_error_model(response: httpx.Response) -> None:
    schema = {**document()["components"]["schemas"]["ErrorModel"], "components": document()["components"]}
    body = response.json()
    OAS30Validator(schema).validate(body)
    assert set(body) == {"error", "error_description"} and body["error"]


@pytest.fixture
def state() -> starweb.StarwebState:
    shop = starweb.seeded_state(seed=3, orders=3)
    shop.page_size = 2
    order = shop.orders[1]
    order["comments"].append({"commentId": 1, "createdAt": shop.clock(), "text": "Ring innan", "from": "customer"})
    order["externalServices"].append({"serviceName": "economic", "externalIdValue": "42", "readOnly": False})
    return shop


READS = [
    ("shop", {}), ("currencies", {}), ("currencies/DKK", {}), ("vat-rates", {}), ("vat-rates/SE", {}),
    ("payment-methods", {}), ("payment-methods/1", {}), ("shipping-methods", {}), ("shipping-methods/1", {}),
    ("pricelists", {}), ("pricelists/1", {}), ("stock-locations", {}), ("stock-locations/1", {}),
    ("order-statuses", {}), ("order-statuses/5", {}),
    ("orders", {}), ("orders", {"page": "2"}), ("orders", {"page": "9"}),
    ("orders", {"include": "items,items.bundledItems,externalServices,status,customer,addresses"}),
    ("orders", {"sortBy": "modifiedAt", "sortOrder": "ASC", "includeNonCompletePayments": "true"}),
    ("orders", {"ordersCreatedAfter": "2020-01-01T00:00:00+01:00", "statusFilter": "1", "filterQuery": "a"}),
    ("orders/1", {"include": "items,status,customer,addresses,externalServices"}), ("orders/1", {}),
    ("orders/1/items", {}), ("orders/1/addresses", {}), ("orders/1/addresses/originalInvoice", {}),
    ("orders/1/comments", {}), ("orders/1/comments/1", {}), ("orders/1/external-services", {}),
    ("orders/1/external-services/economic", {}),
    ("customers", {"include": "addresses,tags,externalServices"}), ("customers/1", {"include": "addresses"}),
    ("customers/1/addresses", {}), ("customers/1/addresses/invoice", {}),
    ("products", {"include": "variants,languages,vatRates"}), ("products", {"filterSku": "TEE-M-BLA"}),
    ("products", {"updatedSince": "2020-01-01T00:00:00+01:00", "sortOrder": "DESC", "filterVisible": "true"}),
    ("customers", {"createdSince": "2020-01-01T00:00:00Z", "sortBy": "customerId", "sortOrder": "ASC"}),
    ("products/2", {"include": "primaryVariant"}), ("products/2/variants", {"include": "prices"}),
    ("products/1/variants/1", {"include": "prices"}), ("products/1/variants/1/prices", {}),
    ("products/1/variants/1/prices/1", {}), ("products/1/variants/1/stocks", {}),
    ("products/1/variants/1/stocks/1", {}), ("web-hooks", {"sortOrder": "DESC"}),
]


@pytest.mark.parametrize(("path", "params"), READS, ids=[f"{path}?{params}" for path, params in READS])
async def test_reads_conform(state: starweb.StarwebState, path: str, params: dict[str, str]) -> None:
    async with signed_in(state) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 200
    conforms(response)


NOT_FOUND = ["orders/999", "orders/abc", "orders/1/items/999", "orders/1/addresses/originalFoo",
             "orders/1/comments/9", "orders/1/external-services/none", "customers/999", "customers/1/addresses/x",
             "products/999", "products/1/variants/999", "products/1/variants/1/prices/9",
             "products/1/variants/1/stocks/9", "currencies/XXX", "vat-rates/ZZ", "payment-methods/9",
             "shipping-methods/9", "pricelists/9", "stock-locations/9", "order-statuses/99",
             "web-hooks/9"]  # fmt: skip


@pytest.mark.parametrize("path", NOT_FOUND)
async def test_unknown_records_are_404_in_the_error_shape(state: starweb.StarwebState, path: str) -> None:
    async with signed_in(state) as http:
        response = await http.get(path)
    assert response.status_code == 404
    conforms(response, valid_request=False)
    is_error_model(response)


BAD_LISTS = [("orders", {"page": "0"}), ("orders", {"include": "secrets"}), ("orders", {"sortBy": "password"}),
             ("orders", {"sortOrder": "UP"}), ("orders", {"ordersCreatedAfter": "yesterday"}),
             ("orders", {"statusFilter": "one"}), ("customers", {"page": "-1"}), ("products", {"include": "x"}),
             ("products/1/variants", {"include": "stock"}), ("products", {"sortBy": "name"}),
             ("customers", {"updatedSince": "last week"})]  # fmt: skip


@pytest.mark.parametrize(("path", "params"), BAD_LISTS, ids=[f"{path}?{params}" for path, params in BAD_LISTS])
async def test_bad_list_parameters_are_400(state: starweb.StarwebState, path: str, params: dict[str, str]) -> None:
    async with signed_in(state) as http:
        response = await http.get(path, params=params)
    assert response.status_code == 400
    conforms(response, valid_request=False)
    is_error_model(response)


async def test_token_answers_conform(state: starweb.StarwebState) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=starweb.create_app(state)),
                                 base_url=BASE_URL) as http:  # fmt: skip
        good = await http.post("token", data=token_form(state))
        wrong = await http.post("token", data=token_form(state, secret="wrong"))
        grant = await http.post("token", data={**token_form(state), "grant_type": "password"})
    assert good.status_code == 200 and good.json()["expires_in"] == 3600
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_client")
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    conforms(good)
    for response in (wrong, grant):
        conforms(response, valid_request=False)


async def test_order_writes_conform(state: starweb.StarwebState) -> None:
    async with signed_in(state) as http:
        patched = await http.patch("orders/1", json={"statusId": 2, "shippingTrackingNo": "TRACK1",
                                                     "onOrderStatusChangeSendEmail": False})  # fmt: skip
        bad_status = await http.patch("orders/1", json={"statusId": 99})
        bad_type = await http.patch("orders/1", json={"isRead": "yes"})
        comment = await http.post("orders/1/comments", json={"text": "Packad", "from": "admin"})
        empty_comment = await http.post("orders/1/comments", json={"text": ""})
        service = await http.post("orders/2/external-services", json={"serviceName": "erp", "externalIdValue": "7"})
        again = await http.post("orders/2/external-services", json={"serviceName": "erp", "externalIdValue": "8"})
        put = await http.put("orders/2/external-services/erp", json={"externalIdValue": "9"})
        deleted = await http.delete("orders/2/external-services/erp")
    expected = [(patched, 200), (bad_status, 400), (comment, 201), (service, 201), (again, 400), (put, 200),
                (deleted, 204)]  # fmt: skip
    assert [response.status_code for response, _ in expected] == [status for _, status in expected]
    for response, _ in expected:
        conforms(response)
    assert (bad_type.status_code, empty_comment.status_code) == (400, 400)
    conforms(bad_type, valid_request=False)
    conforms(empty_comment, valid_request=False)
    assert patched.json()["data"]["statusId"] == 2 and put.json()["data"]["externalIdValue"] == "9"


async def test_status_and_stock_and_webhook_writes_conform(state: starweb.StarwebState) -> None:
    async with signed_in(state) as http:
        standard = await http.delete("order-statuses/1")
        custom = await http.delete("order-statuses/5")
        stock = await http.put("products/1/variants/1/stocks/1", json={"stockStatusId": 1, "stockQuantity": 12})
        bad_stock = await http.put("products/1/variants/1/stocks/1", json={"stockQuantity": 12})
        hook = await http.post("web-hooks", json={"name": "n", "event": "order-created", "url": "http://x.test/h"})
        bad_hook = await http.post("web-hooks", json={"name": "n", "event": "order-eaten", "url": "http://x.test"})
        patched = await http.patch("web-hooks/1", json={"event": "order-status-changed", "statusId": 2})
        gone = await http.delete("web-hooks/1")
    expected = [(standard, 403), (custom, 204), (stock, 200), (hook, 201), (patched, 200), (gone, 204)]
    assert [response.status_code for response, _ in expected] == [status for _, status in expected]
    for response, _ in expected:
        conforms(response)
    assert (bad_stock.status_code, bad_hook.status_code) == (400, 400)
    conforms(bad_stock, valid_request=False)
    conforms(bad_hook, valid_request=False)


async def test_bad_and_expired_tokens_get_401_invalid_token(state: starweb.StarwebState) -> None:
    async with signed_in(state) as http:
        assert (await http.get("orders")).status_code == 200
        state.expire_tokens()
        expired = await http.get("orders")
        forged = await http.get("orders", headers={"Authorization": "Bearer forged"})
        missing = await http.get("shop", headers={"Authorization": ""})
    for response in (expired, forged, missing):
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
        is_error_model(response)


async def test_rate_limit_is_enforced_only_when_switched_on(state: starweb.StarwebState) -> None:
    state.rate_budget.per_minute = 3
    async with signed_in(state) as http:
        assert [(await http.get("shop")).status_code for _ in range(5)] == [200] * 5
        state.rate_limited = True
        statuses = [(await http.get("shop")) for _ in range(5)]
    assert [response.status_code for response in statuses] == [200, 200, 200, 429, 429]
    assert statuses[-1].json()["error"] == "Too Many Requests"
    is_error_model(statuses[-1])


async def test_unserved_methods_answer_in_the_error_shape(state: starweb.StarwebState) -> None:
    async with signed_in(state) as http:
        response = await http.delete("orders/1")
    assert response.status_code == 405
    is_error_model(response)
