"""Writes to the PrestaShop webservice emulator: POST/PUT/PATCH/DELETE rules and the shop's side effects."""

from __future__ import annotations

import httpx
from lxml import etree

from shopbridge.sandbox.prestashop import PrestaShopState, place_order
from tests.sandbox.prestashop.support import (
    FakeClock,
    client,
    clock,
    entity,
    error_codes,
    state,
    text,
    without,
)

__all__ = ["client", "clock", "state"]  # fixtures used by this module

NEW_CUSTOMER = (
    "<prestashop><customer><lastname>Berg</lastname><firstname>Nina</firstname>"
    "<email>nina.berg@example.dk</email><passwd>hemmelig</passwd><active>1</active></customer></prestashop>"
)


def order_history(order_id: int, state_id: int) -> str:
    return (f"<prestashop><order_history><id_order>{order_id}</id_order>"
            f"<id_order_state>{state_id}</id_order_state></order_history></prestashop>")


async def test_post_creates_an_entity_and_answers_201_with_it(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    response = await client.post("/api/customers", content=NEW_CUSTOMER)
    created = entity(response)
    row = state.tables["customers"][int(text(created, "id"))]
    assert response.status_code == 201
    assert (row["email"], row["id_shop"], row["associations"]["groups"]) == ("nina.berg@example.dk", "1", [{"id": "3"}])
    assert row["passwd"] != "hemmelig" and len(row["secure_key"]) == 32
    assert row["date_add"] == state.now() and row["newsletter"] == "0"


async def test_post_with_an_id_is_code_91(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/customers", content=NEW_CUSTOMER.replace("<customer>", "<customer><id>5</id>"))
    assert (response.status_code, error_codes(response)) == (400, [91])


async def test_post_without_a_required_field_is_code_41(client: httpx.AsyncClient) -> None:
    body = NEW_CUSTOMER.replace("<email>nina.berg@example.dk</email>", "")
    response = await client.post("/api/customers", content=body)
    assert (response.status_code, error_codes(response)) == (400, [41])


async def test_invalid_value_is_validation_code_85(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/customers", content=NEW_CUSTOMER.replace("nina.berg@example.dk", "not-an-email"))
    assert (response.status_code, error_codes(response)) == (400, [85])


async def test_malformed_xml_is_500_code_127(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/customers", content=b'{"customer": {}}')
    assert (response.status_code, error_codes(response)) == (500, [127])


async def test_put_takes_the_id_from_the_body_and_resets_absent_fields(
    client: httpx.AsyncClient, state: PrestaShopState, clock: FakeClock
) -> None:
    address = entity(await client.get("/api/addresses/3"))
    assert text(address, "phone") != ""
    address.find("city").text = "Skagen"  # type: ignore[union-attr]
    clock.advance(minutes=5)
    response = await client.put("/api/addresses", content=without(address, "phone"))
    row = state.tables["addresses"][3]
    assert response.status_code == 200 and text(entity(response), "city") == "Skagen"
    assert (row["city"], row["phone"], row["date_upd"]) == ("Skagen", "", state.now())
    assert row["date_add"] != row["date_upd"]


async def test_put_on_an_item_url_still_uses_the_body_id(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    address = entity(await client.get("/api/addresses/2"))
    address.find("city").text = "Ribe"  # type: ignore[union-attr]
    await client.put("/api/addresses/1", content=without(address))
    assert state.tables["addresses"][2]["city"] == "Ribe" and state.tables["addresses"][1]["city"] != "Ribe"


async def test_put_without_a_required_field_is_code_41(client: httpx.AsyncClient) -> None:
    address = entity(await client.get("/api/addresses/1"))
    response = await client.put("/api/addresses", content=without(address, "city"))
    assert (response.status_code, error_codes(response)) == (400, [41])


async def test_put_with_a_read_only_field_is_code_93(client: httpx.AsyncClient) -> None:
    product = entity(await client.get("/api/products/1"))
    response = await client.put("/api/products", content=without(product, "manufacturer_name"))
    assert (response.status_code, error_codes(response)) == (400, [93])
    accepted = await client.put("/api/products", content=without(product, "manufacturer_name", "quantity"))
    assert accepted.status_code == 200


async def test_put_needs_known_unique_ids(client: httpx.AsyncClient) -> None:
    address = entity(await client.get("/api/addresses/1"))
    single = etree.tostring(address)
    address.find("id").text = "999"  # type: ignore[union-attr]
    unknown = await client.put("/api/addresses", content=without(address))
    missing = await client.put("/api/addresses", content=without(address, "id"))
    twice = await client.put("/api/addresses", content=b"<prestashop>" + single * 2 + b"</prestashop>")
    answers = [(response.status_code, error_codes(response)) for response in (unknown, missing, twice)]
    assert answers == [(404, [92]), (400, [90]), (400, [89])]


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    before = dict(state.tables["addresses"][3])
    body = "<prestashop><address><id>3</id><city>Odense</city></address></prestashop>"
    response = await client.patch("/api/addresses", content=body)
    after = state.tables["addresses"][3]
    assert response.status_code == 200
    assert after["city"] == "Odense" and after["phone"] == before["phone"] and after["address1"] == before["address1"]


async def test_patch_does_not_exist_before_8_0(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    state.version = "1.7.8.11"
    response = await client.patch("/api/addresses", content="<prestashop><address><id>3</id></address></prestashop>")
    assert (response.status_code, error_codes(response)) == (405, [23])


async def test_delete_answers_200_with_an_empty_body_and_deletes_in_bulk(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    ids = [int(text(entity(await client.post("/api/customers", content=NEW_CUSTOMER)), "id")) for _ in range(3)]
    single = await client.delete(f"/api/customers/{ids[0]}")
    bulk = await client.delete("/api/customers/", params={"id": f"[{ids[1]},{ids[2]}]"})
    assert (single.status_code, single.content, bulk.status_code) == (200, b"", 200)
    assert not set(ids) & set(state.tables["customers"])


async def test_delete_with_a_missing_id_is_code_87_and_deletes_nothing(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    response = await client.delete("/api/customers", params={"id": "[1,999]"})
    assert (response.status_code, error_codes(response)) == (404, [87])
    assert 1 in state.tables["customers"]


async def test_stock_put_sets_quantity_and_resums_the_product_row(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    lookup = {"filter[id_product]": "[2]", "filter[id_product_attribute]": "[3]", "display": "[id]"}
    (stock_id,) = [node.text for node in entity(await client.get("/api/stock_availables", params=lookup)).iter("id")]
    stock = entity(await client.get(f"/api/stock_availables/{stock_id}"))
    stock.find("quantity").text = "1000"  # type: ignore[union-attr]
    response = await client.put("/api/stock_availables", content=without(stock))
    combined = sum(int(row["quantity"]) for row in state.tables["stock_availables"].values()
                   if row["id_product"] == "2" and row["id_product_attribute"] != "0")
    assert response.status_code == 200 and text(entity(response), "quantity") == "1000"
    assert text(entity(await client.get("/api/products/2")), "quantity") == str(combined)
    assert text(entity(await client.get("/api/combinations/3")), "quantity") == "1000"


async def test_stock_availables_refuse_post_and_delete_with_code_101(client: httpx.AsyncClient) -> None:
    posted = await client.post("/api/stock_availables", content="<prestashop/>")
    deleted = await client.delete("/api/stock_availables/1")
    assert [(r.status_code, error_codes(r)) for r in (posted, deleted)] == [(405, [101]), (405, [101])]


async def test_order_history_post_changes_the_order_state_and_mails_on_request(
    client: httpx.AsyncClient, state: PrestaShopState, clock: FakeClock
) -> None:
    histories = len(state.tables["order_histories"])
    clock.advance(hours=2)
    quiet = await client.post("/api/order_histories", content=order_history(1, 3))
    mailed = await client.post("/api/order_histories", params={"sendemail": "1"}, content=order_history(1, 4))
    order = state.tables["orders"][1]
    customer = state.tables["customers"][int(order["id_customer"])]
    assert (quiet.status_code, mailed.status_code) == (201, 201)
    assert text(entity(mailed), "id_order_state") == order["current_state"] == "4"
    assert order["date_upd"] == state.now()
    assert len(state.tables["order_histories"]) == histories + 2
    mails = [(mail.template, mail.recipient, mail.order_id) for mail in state.sent_mails]
    assert mails == [("shipped", customer["email"], 1)]


async def test_order_history_for_an_unknown_order_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/order_histories", content=order_history(999, 2))
    assert (response.status_code, error_codes(response)) == (400, [85])


async def test_order_carrier_tracking_number_shows_as_the_order_shipping_number(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    order_id = place_order(state)
    ids = entity(await client.get("/api/order_carriers", params={"filter[id_order]": f"[{order_id}]"}))
    carrier = entity(await client.get(f"/api/order_carriers/{ids[0].get('id')}"))
    carrier.find("tracking_number").text = "00370712345678901234"  # type: ignore[union-attr]
    response = await client.put("/api/order_carriers", params={"sendemail": "1"}, content=without(carrier))
    assert response.status_code == 200
    assert text(entity(await client.get(f"/api/orders/{order_id}")), "shipping_number") == "00370712345678901234"
    assert [(mail.template, mail.order_id) for mail in state.sent_mails] == [("in_transit", order_id)]


async def test_order_put_with_a_new_current_state_writes_a_history_row(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    order = entity(await client.get("/api/orders/2"))
    order.find("current_state").text = "5"  # type: ignore[union-attr]
    response = await client.put("/api/orders", content=without(order, "associations"))
    histories = [row for row in state.tables["order_histories"].values() if row["id_order"] == "2"]
    assert response.status_code == 200 and state.tables["orders"][2]["current_state"] == "5"
    assert histories[-1]["id_order_state"] == "5"


async def test_products_and_combinations_created_over_the_api_get_stock_rows(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    product = await client.post("/api/products", content=(
        "<prestashop><product><price>10</price><reference>NEW-1</reference>"
        "<name><language id=\"1\">New thing</language></name></product></prestashop>"))
    product_id = int(text(entity(product), "id"))
    combination = await client.post("/api/combinations", content=(
        f"<prestashop><combination><id_product>{product_id}</id_product><minimal_quantity>1</minimal_quantity>"
        "<reference>NEW-1-A</reference></combination></prestashop>"))
    rows = [row for row in state.tables["stock_availables"].values() if row["id_product"] == str(product_id)]
    assert (product.status_code, combination.status_code) == (201, 201)
    assert text(entity(product), "price") == "10.000000" and text(entity(product), "active") == "0"
    assert sorted(row["id_product_attribute"] for row in rows) == ["0", text(entity(combination), "id")]
    await client.delete(f"/api/products/{product_id}")
    assert not [row for row in state.tables["stock_availables"].values() if row["id_product"] == str(product_id)]


async def test_unknown_association_is_code_86(client: httpx.AsyncClient) -> None:
    body = NEW_CUSTOMER.replace("</customer>", "<associations><friends/></associations></customer>")
    response = await client.post("/api/customers", content=body)
    assert (response.status_code, error_codes(response)) == (400, [86])


async def test_writable_associations_are_replaced(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    body = NEW_CUSTOMER.replace("</customer>", "<associations><groups><group><id>1</id></group>"
                                "<group><id>3</id></group></groups></associations></customer>")
    created = int(text(entity(await client.post("/api/customers", content=body)), "id"))
    assert state.tables["customers"][created]["associations"]["groups"] == [{"id": "1"}, {"id": "3"}]
