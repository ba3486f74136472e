"""Tests of the PrestaShop wire client: request shapes, response shapes and error mapping."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from shopbridge.connectors.prestashop.client import PrestaShopClient, remote_message, retry_after_seconds
from shopbridge.errors import ConfigError, DataError, ShopBridgeError, TransientError

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
BASE = "http://shop.test/api/"
Handler = Callable[[httpx.Request], httpx.Response]

XML_AUTH_ERROR = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
    "<errors><error><code><![CDATA[20]]></code><message><![CDATA[Authentification key is not active]]>"
    "</message></error></errors></prestashop>"
)


def client_for(handler: Handler, shop_id: int | None = None) -> PrestaShopClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return PrestaShopClient(http, BASE, KEY, shop_id)


def recording(response: httpx.Response, seen: list[httpx.Request]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return handle


def answering(status: int, body: str = "", **headers: str) -> Handler:
    return lambda request: httpx.Response(status, text=body, headers=headers)


def raising(error: Exception) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise error

    return handle


# --- requests ---


async def test_list_orders_asks_for_a_sorted_inclusive_date_window_page_as_json() -> None:
    seen: list[httpx.Request] = []
    client = client_for(recording(httpx.Response(200, json=[]), seen))
    await client.list_orders("2024-06-03 10:00:00", "2024-06-03 11:00:00", 200, 100)
    params = seen[0].url.params
    assert seen[0].url.path == "/api/orders"
    assert params["date"] == "1"
    assert params["filter[date_upd]"] == "[2024-06-03 10:00:00,2024-06-03 11:00:00]"
    assert params["sort"] == "[date_upd_ASC,id_ASC]"
    assert params["display"] == "[id,current_state,date_upd,id_shop]"
    assert params["limit"] == "200,100"
    assert params["output_format"] == "JSON"


async def test_key_travels_only_as_basic_auth_user_with_empty_password() -> None:
    seen: list[httpx.Request] = []
    await client_for(recording(httpx.Response(200, json={"order": {"id": 1}}), seen)).get_orders(lambda: [1])
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert KEY not in str(seen[0].url)


async def test_shop_id_adds_the_multishop_context_to_every_request() -> None:
    seen: list[httpx.Request] = []
    await client_for(recording(httpx.Response(200, json=[]), seen), shop_id=2).list_details_of_orders(lambda: [7])
    assert seen[0].url.params["id_shop"] == "2"
    assert seen[0].url.params["filter[id_order]"] == "[7]"
    assert seen[0].url.params["display"] == "full"


async def test_several_records_are_one_full_list_filtered_by_their_ids_and_keyed_by_id() -> None:
    seen: list[httpx.Request] = []
    body = {"customers": [{"id": 9, "email": "b@example.dk"}, {"id": 4, "email": "a@example.dk"}]}
    found = await client_for(recording(httpx.Response(200, json=body), seen)).get_customers(lambda: [4, 9, 12])
    assert (seen[0].url.path, seen[0].url.params["filter[id]"], seen[0].url.params["display"]) == (
        "/api/customers", "[4|9|12]", "full")  # fmt: skip
    assert {number: row["email"] for number, row in found.items()} == {4: "a@example.dk", 9: "b@example.dk"}


async def test_the_ids_of_a_joined_read_are_taken_when_the_call_goes_out() -> None:
    seen: list[httpx.Request] = []
    waiting = [3]
    client = client_for(recording(httpx.Response(200, json={"orders": [{"id": 3}, {"id": 5}]}), seen))

    def ids() -> list[int]:
        waiting.append(5)  # joined while the call waited for the budget
        return list(dict.fromkeys(waiting))

    assert set(await client.get_orders(ids)) == {3, 5}
    assert seen[0].url.params["filter[id]"] == "[3|5]"


async def test_lines_of_several_orders_come_in_one_call_grouped_by_order() -> None:
    seen: list[httpx.Request] = []
    body = {"order_details": [{"id": 1, "id_order": "7"}, {"id": 2, "id_order": "8"}, {"id": 3, "id_order": "7"}]}
    lines = await client_for(recording(httpx.Response(200, json=body), seen)).list_details_of_orders(lambda: [7, 8, 9])
    assert seen[0].url.params["filter[id_order]"] == "[7|8|9]"
    assert {order: [row["id"] for row in rows] for order, rows in lines.items()} == {7: [1, 3], 8: [2], 9: []}


async def test_add_order_history_posts_xml_and_asks_for_the_mail_only_when_told() -> None:
    seen: list[httpx.Request] = []
    created = httpx.Response(201, json={"order_history": {"id": 9, "id_order": "5", "id_order_state": "4"}})
    client = client_for(recording(created, seen))
    history = await client.add_order_history(5, 4, send_email=True)
    await client.add_order_history(5, 4)
    assert history["id"] == 9
    assert seen[0].method == "POST" and seen[0].url.path == "/api/order_histories"
    assert b"<id_order>5</id_order><id_order_state>4</id_order_state>" in seen[0].content
    assert seen[0].url.params["sendemail"] == "1"
    assert "sendemail" not in seen[1].url.params


# --- responses ---


async def test_empty_list_is_a_bare_json_array() -> None:
    assert await client_for(answering(200, "[]")).list_orders("a", "b", 0, 10) == []


async def test_list_rows_come_from_the_plural_node() -> None:
    body = '{"orders":[{"id":3,"current_state":"2","date_upd":"2024-01-01 00:00:00","id_shop":"1"}]}'
    rows = await client_for(answering(200, body)).list_orders("a", "b", 0, 10)
    assert rows[0]["id"] == 3


async def test_single_record_comes_from_the_singular_node() -> None:
    country = await client_for(answering(200, '{"country":{"id":20,"iso_code":"DK"}}')).get_country(20)
    assert country["iso_code"] == "DK"


async def test_malformed_json_is_a_data_error() -> None:
    with pytest.raises(DataError, match="not JSON"):
        await client_for(answering(200, '{"orders":[{"id":')).list_orders("a", "b", 0, 10)


async def test_unexpected_response_shape_is_a_data_error() -> None:
    with pytest.raises(DataError, match="expected one customer"):
        await client_for(answering(200, '{"customers":[]}')).get_customers(lambda: [5])


# --- errors ---


async def test_refused_key_is_a_config_error_carrying_prestashops_code() -> None:
    with pytest.raises(ConfigError) as caught:
        refusing = answering(401, XML_AUTH_ERROR, **{"WWW-Authenticate": 'Basic realm="x"'})
        await client_for(refusing).get_orders(lambda: [1])
    assert caught.value.status == 401
    assert "[20] Authentification key is not active" in caught.value.message


async def test_forbidden_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        forbidding = answering(403, '{"errors":[{"code":132,"message":"No access to this shop"}]}')
        await client_for(forbidding).get_orders(lambda: [1])


async def test_unknown_record_with_empty_body_is_a_data_error() -> None:
    with pytest.raises(DataError) as caught:
        await client_for(answering(404)).get_orders(lambda: [404404])
    assert caught.value.status == 404
    assert "orders/404404" in caught.value.message


async def test_rate_limit_is_transient_and_honours_retry_after_seconds() -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(answering(429, "Too many requests", **{"Retry-After": "7"})).get_orders(lambda: [1])
    assert caught.value.retry_after == 7.0


async def test_unavailable_webservice_is_transient_with_the_json_error_code() -> None:
    body = '{"errors":[{"code":22,"message":"The PrestaShop webservice is disabled."}]}'
    with pytest.raises(TransientError) as caught:
        await client_for(answering(503, body)).get_orders(lambda: [1])
    assert caught.value.status == 503 and caught.value.retry_after is None
    assert "[22] The PrestaShop webservice is disabled." in caught.value.message


async def test_bad_request_is_a_data_error_with_every_remote_error() -> None:
    body = (
        "<prestashop><errors><error><code>32</code><message>Unable to filter by this field</message></error>"
        "<error><code>33</code><message>The filter is empty</message></error></errors></prestashop>"
    )
    with pytest.raises(DataError, match=r"\[32\] Unable to filter.*; \[33\] The filter is empty"):
        await client_for(answering(400, body)).list_orders("a", "b", 0, 10)


async def test_redirect_is_reported_with_its_target() -> None:
    handler = answering(301, "", location="https://shop.test/api/orders")
    with pytest.raises(ShopBridgeError, match="redirected to https://shop.test/api/orders"):
        await client_for(handler).get_orders(lambda: [1])


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset by peer"),
    ],
)
async def test_transport_failures_are_transient(failure: Exception) -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(raising(failure)).get_orders(lambda: [1])
    assert caught.value.status is None


async def test_key_never_appears_in_an_error_even_when_the_server_echoes_it() -> None:
    body = f'{{"errors":[{{"code":20,"message":"key {KEY} is not active"}}]}}'
    with pytest.raises(ConfigError) as caught:
        await client_for(answering(401, body)).get_orders(lambda: [1])
    error = caught.value
    assert KEY not in str(error) and KEY not in error.body_excerpt and KEY not in repr(error)


async def test_key_never_appears_in_a_transport_error() -> None:
    with pytest.raises(TransientError) as caught:
        await client_for(raising(httpx.ConnectError(f"cannot reach with {KEY}"))).get_orders(lambda: [1])
    assert KEY not in str(caught.value)


# --- pieces ---


def test_remote_message_reads_xml_json_and_plain_text_bodies() -> None:
    assert remote_message(XML_AUTH_ERROR) == "[20] Authentification key is not active"
    assert remote_message('{"errors":[{"code":27,"message":"Resource of type \\"x\\" does not exists"}]}') == (
        '[27] Resource of type "x" does not exists'
    )
    assert remote_message("401 Unauthorized\nmore") == "401 Unauthorized"
    assert remote_message("") == ""


def test_remote_message_does_not_expand_xml_entities() -> None:
    hostile = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<prestashop><errors><error><code>1</code><message>&x;</message></error></errors></prestashop>"
    )
    assert "root:" not in remote_message(hostile)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("2.5") == 2.5
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    waited = retry_after_seconds(later)
    assert waited is not None and 100 < waited <= 120
