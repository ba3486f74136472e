"""Each shop system's webhook body becomes the one order to read again, or a clear refusal."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shopbridge.errors import DataError
from shopbridge.web.webhooks import read_norce_event, read_order_webhook, read_starweb_webhook, reader_for


def test_each_shop_system_has_its_reader() -> None:
    assert reader_for("prestashop") is read_order_webhook
    assert reader_for("starweb") is read_starweb_webhook
    assert reader_for("norce") is read_norce_event


def test_a_starweb_order_event_names_the_shop_and_the_order() -> None:
    body = json.dumps({"shopIdCode": "acme", "orderId": 1042, "event": "order.updated", "status": "paid"})
    event = read_starweb_webhook(body.encode())
    assert (event.shop, event.id) == ("acme", "1042")


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"shopIdCode": "acme"}', b'{"orderId": 7}', b"not json", b'{"shopIdCode": "a/../b", "orderId": 7}'],
)
def test_a_starweb_body_that_names_no_order_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        read_starweb_webhook(body)


CHANNELS = {"channels": [{"application_id": 1244, "application_key": "5B1F0C2E-1111-2222-3333-444455556666"}]}


def test_a_norce_pushed_order_names_its_channel_by_key_and_the_order() -> None:
    body = json.dumps({"Header": {"ApplicationKey": "5b1f0c2e-1111-2222-3333-444455556666"},
                       "ClientOrderRef": "1048213", "Items": []}).encode()  # fmt: skip
    event = read_norce_event(body, CHANNELS)
    assert (event.shop, event.id) == ("1244", "1048213")


def test_a_norce_push_from_a_channel_not_in_the_connection_is_refused() -> None:
    body = json.dumps({"Header": {"ApplicationKey": "00000000-0000-0000-0000-000000000000"},
                       "ClientOrderRef": "1048213"}).encode()  # fmt: skip
    with pytest.raises((DataError, ValueError)):
        read_norce_event(body, CHANNELS)


def test_a_norce_order_event_names_the_channel_and_the_order() -> None:
    event = read_norce_event(json.dumps({"ApplicationId": 1244, "OrderNo": "10042"}).encode())
    assert (event.shop, event.id) == ("1244", "10042")


@pytest.mark.parametrize("body", [b'{"OrderNo": "1"}', b'{"ApplicationId": 1, "OrderNo": "1; DROP"}', b"[]"])
def test_a_norce_event_that_names_no_order_is_refused(body: bytes) -> None:
    with pytest.raises((DataError, ValidationError, ValueError)):
        read_norce_event(body)
