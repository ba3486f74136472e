"""Payloads shaped like Starweb's answers (spec §6, §7), for the translate tests."""

from __future__ import annotations

import copy
from typing import Any

ADDRESS: dict[str, Any] = {
    "companyName": "", "firstName": "Erik", "lastName": "Svensson", "careOf": "", "attention": "", "reference": "",
    "address": "Storgatan 5", "postalCode": "211 42", "city": "Malmö", "state": "", "countryCode": "SE",
    "phoneNo": "+46406020900", "mobilePhoneNo": "",
}  # fmt: skip

ORDER: dict[str, Any] = {
    "orderId": 1001, "createdAt": "2024-05-02T10:11:12+02:00", "modifiedAt": "2024-05-02T10:15:00+02:00",
    "customerId": 55, "statusId": 1, "currencyCode": "SEK", "totalAmount": 437.6, "totalVat": 109.4,
    "amountToPay": 547, "isComplete": True, "shippingMethodName": "PostNord", "shippingCost": 39.2,
    "shippingVatRate": 25, "paymentMethodName": "Faktura", "paymentFee": 0, "paymentVatRate": 25,
    "originalCustomerEmail": "erik.svensson@example.se",
    "items": {"data": [
        {"itemId": 1, "sku": "TS-RED-M", "description": "T-shirt red M", "quantity": 2, "unitSymbol": "st",
         "unitPrice": 199.2, "vatRate": 25, "discount": 0, "discountType": "percent", "sortIndex": 0},
    ]},
    "status": {"data": {"statusId": 1, "idCode": "created", "shouldSendEmail": True,
                        "languages": [{"langCode": "sv", "name": "Order skapad"}]}},
    "customer": {"data": {"customerId": 55, "email": "erik.svensson@example.se", "type": "person", "vatNo": ""}},
    "addresses": {"data": {"originalInvoice": ADDRESS, "originalDelivery": {**ADDRESS, "address": "Lilla torg 1"}}},
}  # fmt: skip


def order(**changes: Any) -> dict[str, Any]:
    """A deep copy of ORDER with top-level fields replaced (a value of None removes the field)."""
    payload = copy.deepcopy(ORDER)
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def with_item(**changes: Any) -> dict[str, Any]:
    row = {**ORDER["items"]["data"][0], **changes}
    return order(items={"data": [row]})
