"""Payloads shaped like the Norce Query 2.0 API and the order push (spec §2a, §2b), numbers as Decimal
the way the client reads them."""

from __future__ import annotations

from copy import deepcopy
from decimal import Decimal
from typing import Any

CURRENCIES = {1: "SEK", 2: "DKK"}
COUNTRIES = {1: "SE", 2: "DK"}

ORDER: dict[str, Any] = {
    "Id": 90211, "ApplicationId": 1244, "OrderNo": "1048213", "OrderDate": "2024-05-02T10:15:00Z",
    "Created": "2024-05-02T10:15:00Z", "Updated": "2024-05-02T11:00:00Z", "StatusId": 2, "CurrencyId": 1,
    "FreightCost": Decimal("39.2"), "OrderFee": 0, "CashDiscount": 0, "LineDiscount": 0, "PaymentMethodId": 7,
    "DeliveryCountryId": 1, "DeliveryZipCode": "11122", "IsForgotten": False, "Source": "WEB",
    "DeliveryFirstName": "Eva", "DeliveryLastName": "Ek", "DeliveryAddress1": "Storgatan 1",
    "DeliveryCity": "Stockholm",
    "Items": [
        {"Id": 1, "OrderId": 90211, "LineNumber": 1, "PartNo": "TS-BLU-M", "ProductName": "T-shirt blå M",
         "QtyOrdered": Decimal("2.0"), "PriceSale": Decimal("159.2"), "DiscountAmount": 0,
         "LineAmount": Decimal("318.4"), "VatRate": Decimal("25.0"), "StatusId": 2},
    ],
    "Buyer": {"FirstName": "Eva", "LastName": "Ek", "CompanyName": "", "EmailAddress": "Eva@Example.se",
              "Phone": "", "Address1": "Storgatan 1", "ZipCode": "11122", "City": "Stockholm", "CountryId": 1},
}  # fmt: skip

PUSH: dict[str, Any] = {
    "Header": {"ApplicationKey": "5b1f0c2e-1111-2222-3333-444455556666"},
    "ClientOrderRef": "1048213", "SubmitDate": "2024-05-02T10:15:00", "CurrencyCode": "SEK", "Source": "WEB",
    "OrderType": 1,
    "Items": [{"LineNo": 1, "PartNo": "TS-BLU-M", "Quantity": 2, "UnitPrice": 159.2, "UnitVat": 39.8}],
}  # fmt: skip

EVENT: dict[str, Any] = {
    "ClientId": 1, "ApplicationId": 1244, "OrderId": 90211, "OrderNo": "1048213",
    "ClientOrderRef": "1048213", "FirstName": "Eva", "LastName": "Ek", "Source": "WEB",
}  # fmt: skip


def order(**changes: Any) -> dict[str, Any]:
    payload = deepcopy(ORDER)
    payload.update(changes)
    return payload


def item(**changes: Any) -> dict[str, Any]:
    payload = deepcopy(ORDER["Items"][0])
    payload.update(changes)
    return payload
