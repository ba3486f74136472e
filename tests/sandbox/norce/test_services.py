"""The emulator's token endpoint, Connect order service and import jobs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shopbridge.sandbox import norce
from shopbridge.sandbox.norce.state import Status

from .support import Tenant, tenant, token_form

TOKEN = "/identity/1.0/connect/token"


async def job(shop: Tenant, operation: str, job_id: str) -> Any:
    path = f"/commerce/connect/4.0/Job/{operation}"
    response = await shop.http.get(path, params={"id": job_id}, headers=shop.headers())
    return response.json()


@pytest.fixture
async def shop() -> AsyncIterator[Tenant]:
    state = norce.seeded_state(seed=2, orders=2)
    found = await tenant(state)
    yield found
    await found.http.aclose()


@pytest.mark.parametrize(
    ("changes", "error"),
    [({"client_secret": "nope"}, "invalid_client"), ({"client_id": "x"}, "invalid_client"),
     ({"scope": "prod"}, "invalid_scope"), ({"grant_type": "password"}, "unsupported_grant_type")],
)
async def test_token_refuses_wrong_credentials_scope_and_grant(
    shop: Tenant, changes: dict[str, str], error: str
) -> None:
    response = await shop.http.post(TOKEN, data=token_form(shop.state, **changes))
    assert response.status_code == 400 and response.json()["error"] == error


async def test_token_expires_after_an_hour(shop: Tenant) -> None:
    now = datetime.now(UTC)
    shop.state.clock = lambda: now + timedelta(seconds=3601)
    assert (await shop.orders()).status_code == 401


async def test_token_limit_allows_a_burst_of_twenty_then_three_a_minute(shop: Tenant) -> None:
    moment = [datetime(2024, 1, 1, tzinfo=UTC)]
    shop.state.clock = lambda: moment[0]
    shop.state.enforce_token_limits = True
    codes = [(await shop.http.post(TOKEN, data=token_form(shop.state))).status_code for _ in range(21)]
    assert codes == [200] * 20 + [429]
    moment[0] += timedelta(minutes=1)
    codes = [(await shop.http.post(TOKEN, data=token_form(shop.state))).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


async def test_token_limit_is_off_unless_asked(shop: Tenant) -> None:
    codes = {(await shop.http.post(TOKEN, data=token_form(shop.state))).status_code for _ in range(25)}
    assert codes == {200}


async def test_acknowledgement_confirms_and_stores_the_erp_number(shop: Tenant) -> None:
    order_no = norce.place_order(shop.state, 101, status=Status.CREATED)
    body = {"ClientOrderRef": int(order_no), "ErpOrderNo": "SO-55102", "OrderStatus": "Acknowledged", "Infos": []}
    response = await shop.connect("Order/SendOrderStatus", body)
    order = shop.state.order_by_no(order_no)
    assert response.status_code == 200 and response.content == b""
    assert order is not None and (order.status, order.erp_order_no) == (Status.CONFIRMED, "SO-55102")
    assert order.updated is not None


async def test_delivery_then_invoice_move_the_order_on_and_cancel_is_then_refused(shop: Tenant) -> None:
    order_no = norce.place_order(shop.state, 101)
    note = {"OrderNo": order_no, "NoteNo": "DN-1", "DeliveryDate": "2024-05-03T14:00:00",
            "DeliveryNotePackages": [{"ParcelNumber": "00370712345678901234", "StatusId": 4}]}  # fmt: skip
    assert (await shop.connect("Order/CreateDeliveryNote", note)).status_code == 200
    invoice = {"InvoiceNo": "F-1", "ClientOrderRef": int(order_no), "IsLastInvoiceForOrder": True}
    assert (await shop.connect("Order/CreateInvoice", invoice)).status_code == 200
    order = shop.state.order_by_no(order_no)
    assert order is not None and order.history[-2:] == [Status.DELIVERED, Status.INVOICED]
    refused = await shop.connect("Order/CancelOrder", {"ClientOrderRef": int(order_no)})
    assert refused.status_code == 400 and "cannot be cancelled" in refused.text


@pytest.mark.parametrize(
    "body",
    [{"ClientOrderRef": 1, "OrderStatus": "Confirmed"}, {"ClientOrderRef": 1048001, "OrderStatus": "Shipped"}],
)
async def test_unknown_order_or_status_is_400(shop: Tenant, body: dict[str, object]) -> None:
    assert (await shop.connect("Order/SendOrderStatus", body)).status_code == 400


async def test_onhand_import_applies_only_the_fields_set_and_logs_unknown_skus(shop: Tenant) -> None:
    header = {"AccountId": 1, "FullFile": False, "SkuOnhandFieldsThatAreSet": ["OnhandValue"]}
    rows = [{"PartNo": "MUG-01", "WarehouseCode": "MAIN", "LocationCode": "WEB", "OnhandValue": 42,
             "NextDeliveryDate": "2024-05-20T00:00:00"},
            {"PartNo": "NOPE", "WarehouseCode": "MAIN", "LocationCode": "WEB", "OnhandValue": 1}]  # fmt: skip
    response = await shop.connect("Product/ImportOnhands", rows, **{"X-StormConnect-Header": json.dumps(header)})
    job_id = response.json()["JobId"]
    stock = shop.state.onhands[("MUG-01", "MAIN", "WEB")]
    assert (stock.onhand, stock.next_delivery) == (Decimal(42), None)
    first, second = (await job(shop, "Get", job_id)), (await job(shop, "Get", job_id))
    assert (first["StatusId"], first["IsFinished"]) == (6, False)
    assert (second["StatusId"], second["Updates"], second["Fail"]) == (2, 1, 1)
    log = await job(shop, "GetLog", job_id)
    assert "NOPE" in log[0]["Message"]


async def test_price_import_ignores_zero_and_unknown_price_lists(shop: Tenant) -> None:
    header = {"AccountId": 1, "SkuPriceListFieldsThatAreSet": ["PriceSale"]}
    rows = [{"PartNo": "MUG-01", "PriceListCode": "DK-B2C", "PriceSale": 0},
            {"PartNo": "CAP-01", "PriceListCode": "SE-B2C", "PriceSale": 199.5},
            {"PartNo": "CAP-01", "PriceListCode": "NO-B2C", "PriceSale": 10}]  # fmt: skip
    await shop.connect("Product/ImportSkuPriceLists", rows, **{"X-StormConnect-Header": json.dumps(header)})
    assert shop.state.prices[("MUG-01", "DK-B2C")].price_sale == Decimal("79.20")
    assert shop.state.prices[("CAP-01", "SE-B2C")].price_sale == Decimal("199.5")


async def test_import_without_header_is_400(shop: Tenant) -> None:
    assert (await shop.connect("Product/ImportOnhands", [])).status_code == 400


async def test_seed_models_variants_price_lists_and_warehouses() -> None:
    state = norce.seeded_state(seed=0)
    assert {"TEE-S-BLA", "TEE-L-WHI"} <= set(state.skus) and state.skus["TEE-L-WHI"].product_code == "TEE"
    assert state.prices[("TEE-L-WHI", "DK-B2C")].price_sale == Decimal("167.20")
    assert state.prices[("MUG-01", "SE-B2C")].currency == "SEK"
    assert state.onhands[("MUG-01", "MAIN", "WEB")].onhand == 100


async def test_product_import_creates_a_variant_only_with_its_manufacturer_keys(shop: Tenant) -> None:
    header = {"AccountId": 1, "ProductFieldsThatAreSet": ["ManufacturerCode", "Code", "Variants"]}
    culture = {"CultureCode": "sv-SE", "Name": "T-shirt blå"}
    rows = [{"ManufacturerCode": "ACME", "Code": "TS-BLU", "Cultures": [culture],
             "Variants": [{"ManufacturerPartNo": "TS-BLU-M", "Skus": [{"PartNo": "TS-BLU-M", "Status": 1}]}]},
            {"Code": "NOKEYS", "Variants": [{"Skus": [{"PartNo": "NEW-1"}]}]}]  # fmt: skip
    await shop.connect("Product/ImportProducts", rows, **{"X-StormConnect-Header": json.dumps(header)})
    assert shop.state.products["TS-BLU"].variants[0].part_no == "TS-BLU-M"
    assert shop.state.skus["TS-BLU-M"].name == "T-shirt blå"
    assert "NEW-1" not in shop.state.skus


async def test_malformed_import_rows_fail_alone_in_the_job_log(shop: Tenant) -> None:
    header = {"AccountId": 1, "SkuFieldsThatAreSet": 7}
    update = {"Code": "Y", "Variants": [{"Skus": [{"PartNo": "MUG-01", "Status": 5}]}]}
    rows = [{"Code": "X", "Variants": "not a list"}, 42, update]
    response = await shop.connect("Product/ImportProducts", rows, **{"X-StormConnect-Header": json.dumps(header)})
    assert response.status_code == 200
    log = await job(shop, "GetLog", response.json()["JobId"])
    assert [entry["ImportedRow"] for entry in log] == [1, 2]
    assert shop.state.skus["MUG-01"].status == 5
