"""The PrestaShop webservice emulator read over HTTP: auth, headers, XML and JSON shapes, list parameters, shops."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest

from shopbridge.sandbox.prestashop import DEMO_API_KEY, PrestaShopState, create_app, place_order
from shopbridge.sandbox.server import serving
from tests.sandbox.prestashop.support import (
    BASE_URL,
    XLINK_HREF,
    FakeClock,
    client,
    clock,
    entity,
    error_codes,
    state,
    text,
    without,
    xml,
)

__all__ = ["client", "clock", "state"]  # fixtures used by this module


def anonymous(state: PrestaShopState) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(create_app(state)), base_url=BASE_URL)


# -- authentication ---------------------------------------------------------------------------------

async def test_request_without_key_is_a_plain_text_401_with_a_basic_challenge(state: PrestaShopState) -> None:
    async with anonymous(state) as http:
        response = await http.get("/api/orders")
    assert response.status_code == 401
    assert response.text == "401 Unauthorized"
    assert response.headers["www-authenticate"].startswith('Basic realm="Welcome to PrestaShop Webservice')
    assert "psws-version" not in response.headers


@pytest.mark.parametrize(("key", "code"), [("", 17), ("short", 18), ("X" * 32, 19)])
async def test_bad_keys_are_401_with_an_xml_error_code(state: PrestaShopState, key: str, code: int) -> None:
    async with anonymous(state) as http:
        response = await http.get("/api/orders", auth=(key, ""))
    assert response.status_code == 401
    assert error_codes(response) == [code]
    assert "www-authenticate" in response.headers and "psws-version" not in response.headers


async def test_ws_key_parameter_authenticates_like_basic_auth(state: PrestaShopState) -> None:
    async with anonymous(state) as http:
        response = await http.get("/api/orders", params={"ws_key": DEMO_API_KEY})
    assert response.status_code == 200
    assert response.headers["psws-version"] == state.version


async def test_head_with_a_bad_key_is_401_with_an_empty_body(state: PrestaShopState) -> None:
    async with anonymous(state) as http:
        response = await http.head("/api/", auth=("Y" * 32, ""))
    assert response.status_code == 401 and response.content == b""


async def test_disabled_webservice_answers_503_code_22(state: PrestaShopState, client: httpx.AsyncClient) -> None:
    state.webservice_enabled = False
    response = await client.get("/api/orders")
    assert response.status_code == 503 and error_codes(response) == [22]


# -- index and headers ------------------------------------------------------------------------------

async def test_api_root_lists_each_resource_with_its_methods_and_schema_links(client: httpx.AsyncClient) -> None:
    api = xml(await client.get("/api/")).find("api")
    assert api is not None and api.get("shopName")
    stock = api.find("stock_availables")
    assert stock is not None
    permissions = [stock.get(method) for method in ("get", "put", "post", "delete")]
    assert permissions == ["true", "true", "false", "false"]
    assert [schema.get("type") for schema in stock.findall("schema")] == ["blank", "synopsis"]
    assert stock.get(XLINK_HREF) == f"{BASE_URL}/api/stock_availables"


async def test_responses_carry_the_webservice_headers_and_a_matching_content_sha1(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    response = await client.get("/api/orders")
    headers = response.headers
    assert headers["content-sha1"] == hashlib.sha1(response.content).hexdigest()
    assert headers["x-powered-by"] == "PrestaShop Webservice"
    assert headers["access-time"] == str(int(clock.now.timestamp()))
    assert float(headers["execution-time"]) >= 0 and len(headers["execution-time"].split(".")[1]) == 3
    assert headers["content-type"] == "text/xml;charset=utf-8"


async def test_head_answers_the_get_headers_without_a_body(client: httpx.AsyncClient) -> None:
    got, head = await client.get("/api/products/1"), await client.head("/api/products/1")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-sha1"] == got.headers["content-sha1"]


async def test_matching_local_content_sha1_answers_304(client: httpx.AsyncClient) -> None:
    digest = (await client.get("/api/products/1")).headers["content-sha1"]
    cached = await client.get("/api/products/1", headers={"Local-Content-Sha1": digest})
    stale = await client.get("/api/products/1", headers={"Local-Content-Sha1": "0" * 40})
    assert (cached.status_code, cached.content, stale.status_code) == (304, b"", 200)


async def test_unknown_query_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    plain, noisy = await client.get("/api/orders"), await client.get("/api/orders", params={"debug": "True"})
    assert noisy.status_code == 200 and noisy.content == plain.content


# -- XML shapes --------------------------------------------------------------------------------------

async def test_list_without_display_shows_ids_with_links(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    orders = xml(await client.get("/api/orders")).find("orders")
    assert orders is not None
    expected = [("order", str(order_id)) for order_id in sorted(state.tables["orders"])]
    assert [(node.tag, node.get("id")) for node in orders] == expected
    assert orders[0].get(XLINK_HREF) == f"{BASE_URL}/api/orders/{orders[0].get('id')}"


async def test_empty_list_is_an_empty_wrapper_in_xml_and_a_bare_array_in_json(client: httpx.AsyncClient) -> None:
    query = {"filter[reference]": "[NOSUCHREF]"}
    wrapper = xml(await client.get("/api/orders", params=query)).find("orders")
    assert wrapper is not None and len(wrapper) == 0
    assert (await client.get("/api/orders", params={**query, "output_format": "JSON"})).json() == []


async def test_single_order_prints_cdata_links_and_computed_fields(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    response = await client.get("/api/orders/1")
    order = entity(response)
    row = state.tables["orders"][1]
    assert order.tag == "order" and b"<id><![CDATA[1]]></id>" in response.content
    customer = order.find("id_customer")
    assert customer is not None and customer.get(XLINK_HREF) == f"{BASE_URL}/api/customers/{row['id_customer']}"
    cart = order.find("id_cart")
    assert cart is not None and cart.get(XLINK_HREF) is None  # a zero id carries no link
    shipping_number = order.find("shipping_number")
    assert shipping_number is not None and shipping_number.get("notFilterable") == "true"
    assert text(order, "total_paid") == row["total_paid"]


async def test_i18n_fields_print_one_language_element_per_language(client: httpx.AsyncClient) -> None:
    name = entity(await client.get("/api/products/1")).find("name")
    assert name is not None
    (language,) = name
    assert (language.tag, language.get("id"), language.text) == ("language", "1", "Stoneware mug")
    assert language.get(XLINK_HREF) == f"{BASE_URL}/api/languages/1"


async def test_associations_name_their_node_type_and_resource(client: httpx.AsyncClient) -> None:
    product = entity(await client.get("/api/products/2"))
    combinations = product.find("associations/combinations")
    assert combinations is not None and combinations.get("nodeType") == "combination"
    assert combinations.get("api") == "combinations" and len(combinations) == 6
    tags = product.find("associations/tags")
    assert tags is not None and len(tags) == 0
    rows = entity(await client.get("/api/orders/1")).find("associations/order_rows")
    assert rows is not None and rows.get("virtualEntity") == "true" and rows[0].tag == "order_row"


async def test_display_lists_only_the_chosen_fields(client: httpx.AsyncClient) -> None:
    stock = xml(await client.get("/api/stock_availables", params={"display": "[quantity]", "limit": "1"}))
    (row,) = stock.find("stock_availables")  # type: ignore[misc]
    assert [child.tag for child in row] == ["quantity"]


async def test_display_selects_association_sub_fields(client: httpx.AsyncClient) -> None:
    params = {"display": "[id,order_rows[product_quantity]]", "filter[id]": "[1]"}
    order = xml(await client.get("/api/orders", params=params)).find("orders/order")
    assert order is not None
    assert [child.tag for child in order] == ["id", "associations"]
    first_row = order.find("associations/order_rows/order_row")
    assert first_row is not None and [child.tag for child in first_row] == ["id", "product_quantity"]


# -- JSON shapes -------------------------------------------------------------------------------------

async def test_json_list_without_display_has_integer_ids(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/orders", headers={"Output-Format": "JSON"})).json()
    assert body["orders"][0] == {"id": 1}


async def test_json_single_uses_the_singular_key_with_strings_and_plain_i18n(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/products/2", params={"output_format": "JSON"})
    product = response.json()["product"]
    assert response.headers["content-type"] == "application/json"
    assert product["id"] == 2 and product["price"] == "159.200000" and product["name"] == "Organic T-shirt"
    assert product["associations"]["combinations"][0] == {"id": "1"}


async def test_json_display_selects_the_plural_array_even_for_one_entity(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/products/2", params={"output_format": "JSON", "display": "[id,reference]"})).json()
    assert body == {"products": [{"id": 2, "reference": "TEE"}]}


async def test_json_combination_quantity_is_an_integer(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/combinations/1", params={"output_format": "JSON"})).json()
    assert isinstance(body["combination"]["quantity"], int)


async def test_first_present_format_source_wins_and_compares_case_sensitively(client: httpx.AsyncClient) -> None:
    xml_first = await client.get("/api/orders", params={"output_format": "JSON"}, headers={"Io-Format": "XML"})
    lower = await client.get("/api/orders", params={"output_format": "json"})
    assert xml_first.headers["content-type"].startswith("text/xml")
    assert lower.headers["content-type"].startswith("text/xml")


async def test_json_i18n_becomes_a_list_when_several_languages_are_in_play(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    state.insert("languages", {"name": "Dansk", "iso_code": "da", "active": "1"})
    state.tables["products"][1]["name"] = {1: "Stoneware mug", 2: "Stentøjskrus"}
    both = (await client.get("/api/products/1", params={"output_format": "JSON"})).json()["product"]["name"]
    danish = (await client.get("/api/products/1", params={"output_format": "JSON", "language": "2"})).json()
    assert both == [{"id": "1", "value": "Stoneware mug"}, {"id": "2", "value": "Stentøjskrus"}]
    assert danish["product"]["name"] == "Stentøjskrus"


# -- list parameters ---------------------------------------------------------------------------------

async def test_date_filters_read_shop_local_time_and_include_both_ends(
    client: httpx.AsyncClient, state: PrestaShopState, clock: FakeClock
) -> None:
    before_dst = place_order(state)  # 00:30 UTC = 01:30 in Copenhagen (CET)
    clock.advance(hours=1)
    after_dst = place_order(state)  # 01:30 UTC = 03:30 in Copenhagen (CEST)
    assert state.tables["orders"][after_dst]["date_add"] == "2024-03-31 03:30:00"
    params = {"date": "1", "display": "[id]", "filter[id]": f"[{before_dst}|{after_dst}]"}
    both = await client.get("/api/orders", params={
        **params, "filter[date_add]": "[2024-03-31 01:30:00,2024-03-31 03:30:00]"})
    later = await client.get("/api/orders", params={
        **params, "filter[date_add]": "[2024-03-31 01:30:01,2024-03-31 03:30:00]"})
    assert [node.text for node in xml(both).iter("id")] == [str(before_dst), str(after_dst)]
    assert [node.text for node in xml(later).iter("id")] == [str(after_dst)]


async def test_date_filters_and_sorts_need_date_1(client: httpx.AsyncClient) -> None:
    unfiltered = await client.get("/api/orders", params={"filter[date_upd]": ">[2024-01-01 00:00:00]"})
    unsorted = await client.get("/api/orders", params={"sort": "[date_upd_ASC]"})
    assert (unfiltered.status_code, error_codes(unfiltered)) == (400, [32])
    assert (unsorted.status_code, error_codes(unsorted)) == (400, [38])


async def test_sort_and_limit_page_through_a_list(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    ids = sorted(state.tables["orders"], reverse=True)
    page = xml(await client.get("/api/orders", params={"sort": "[id_DESC]", "limit": "1,2"}))
    assert [int(node.get("id", "0")) for node in page.iter("order")] == ids[1:3]


async def test_filters_combine_like_a_stock_lookup(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    params = {"filter[id_product]": "[2]", "filter[id_product_attribute]": ">[0]", "display": "[id_product_attribute]"}
    found = xml(await client.get("/api/stock_availables", params=params))
    expected = sorted(int(row["id"]) for row in state.tables["combinations"].values() if row["id_product"] == "2")
    assert [int(node.text or "0") for node in found.iter("id_product_attribute")] == expected


async def test_schema_blank_gives_an_empty_template(client: httpx.AsyncClient) -> None:
    template = entity(await client.get("/api/customers", params={"schema": "blank"}))
    assert template.tag == "customer" and text(template, "email") == ""
    synopsis = entity(await client.get("/api/customers", params={"schema": "synopsis"})).find("email")
    assert synopsis is not None and synopsis.get("required") == "true" and synopsis.get("format") == "isEmail"
    assert error_codes(await client.get("/api/customers", params={"schema": "full"})) == [28]


# -- errors ------------------------------------------------------------------------------------------

async def test_unknown_resource_is_400_code_27_with_a_suggestion(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/order")
    assert response.status_code == 400 and error_codes(response) == [27]
    assert 'Did you mean: "orders"' in response.text


async def test_unknown_single_id_is_404_with_an_empty_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/orders/9999")
    assert (response.status_code, response.content) == (404, b"")


async def test_errors_are_json_when_json_is_asked(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/orders", params={"output_format": "JSON", "limit": "1,2,3"})
    assert response.json() == {"errors": [{"code": 39, "message": response.json()["errors"][0]["message"]}]}


# -- shops -------------------------------------------------------------------------------------------

async def test_orders_are_listed_per_shop_context(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    state.insert("shops", {"id_shop_group": "1", "active": "1", "name": "Second shop"}, entity_id=2)
    other = place_order(state)
    state.tables["orders"][other]["id_shop"] = "2"

    async def listed(**params: str) -> list[int]:
        return [int(node.get("id", "0")) for node in xml(await client.get("/api/orders", params=params)).iter("order")]

    assert other not in await listed()
    assert await listed(id_shop="2") == [other]
    assert other in await listed(id_shop="all") and len(await listed(id_shop="all")) == len(state.tables["orders"])
    outside = await client.get(f"/api/orders/{other}")
    assert (outside.status_code, error_codes(outside)) == (404, [131])


async def test_unknown_shop_is_404_code_999(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/orders", params={"id_shop": "9"})
    assert (response.status_code, error_codes(response)) == (404, [999])


# -- control endpoints and real HTTP ------------------------------------------------------------------

async def test_sandbox_orders_endpoint_places_orders(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    body = {"customer_email": "sofie.hansen@example.dk", "lines": [["CAP-01", 2]], "status": 10}
    created = await client.post("/_sandbox/orders", content=json.dumps(body))
    order = state.tables["orders"][created.json()["id"]]
    assert order["current_state"] == "10" and order["total_products"] == "239.920000"
    random_order = await client.post("/_sandbox/orders")
    assert random_order.json()["id"] in state.tables["orders"]
    unknown = await client.post("/_sandbox/orders", content=json.dumps({"lines": [["NOPE", 1]]}))
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["error"]


async def test_sandbox_state_counts_rows_per_resource(client: httpx.AsyncClient, state: PrestaShopState) -> None:
    counts = (await client.get("/_sandbox/state")).json()
    assert counts["orders"] == len(state.tables["orders"]) and counts["products"] == 7


async def test_a_json_client_pages_orders_over_real_http(state: PrestaShopState) -> None:
    for _ in range(6):
        place_order(state)
    seen: list[int] = []
    with serving(create_app(state)) as server:
        async with httpx.AsyncClient(base_url=server.url, auth=(DEMO_API_KEY, ""),
                                     headers={"Output-Format": "JSON"}) as http:
            while True:
                response = await http.get("/api/orders", params={"display": "full", "limit": f"{len(seen)},4"})
                page = response.json()
                seen += [order["id"] for order in (page["orders"] if page else [])]
                if len(page["orders"] if page else []) < 4:
                    break
    assert seen == sorted(state.tables["orders"])


# -- lookups by id and parent id -----------------------------------------------------------------------

async def test_lists_filtered_by_ids_or_by_parent_ids_find_what_a_scan_of_the_table_finds(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    for _ in range(6):
        place_order(state)
    params = {"filter[id_order]": "[5|2|999]", "filter[product_quantity]": ">[1]", "display": "[id,id_order]"}
    listed = (await client.get("/api/order_details", params={**params, "output_format": "JSON"})).json()
    scanned = sorted(row["id"] for row in state.tables["order_details"].values()
                     if row["id_order"] in ("5", "2") and int(row["product_quantity"]) > 1)  # fmt: skip
    assert [row["id"] for row in listed["order_details"]] == scanned and scanned
    by_id = (await client.get("/api/orders", params={"filter[id]": "[7|2|999]", "display": "[id]",
                                                     "output_format": "JSON"})).json()  # fmt: skip
    assert [row["id"] for row in by_id["orders"]] == [2, 7]


async def test_a_record_moved_to_another_parent_by_put_is_listed_under_its_new_parent(
    client: httpx.AsyncClient, state: PrestaShopState
) -> None:
    address = entity(await client.get("/api/addresses/3"))
    owner = text(address, "id_customer")
    other = next(str(row_id) for row_id in state.tables["customers"] if str(row_id) != owner)
    await client.get("/api/addresses", params={"filter[id_customer]": f"[{owner}]"})  # the lookup is in use
    address.find("id_customer").text = other  # type: ignore[union-attr]
    assert (await client.put("/api/addresses", content=without(address))).status_code == 200

    async def listed(customer: str) -> list[int]:
        params = {"filter[id_customer]": f"[{customer}]", "output_format": "JSON"}
        answer = (await client.get("/api/addresses", params=params)).json()
        return [row["id"] for row in answer["addresses"]] if answer else []

    assert 3 in await listed(other) and 3 not in await listed(owner)
