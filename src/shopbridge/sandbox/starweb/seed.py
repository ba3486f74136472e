"""A seeded Starweb shop from the shared demo catalogue, and the shop-side events tests and the demo need."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

from shopbridge.sandbox import catalog
from shopbridge.sandbox.starweb.state import Record, StarwebState
from shopbridge.sandbox.starweb.webhooks import announce

# Standard statuses carry an idCode (spec §6 OrderStatus); 5 is a custom one, as shops add.
STATUSES = (
    (1, "created", "Ny order", "New order"),
    (2, "picking", "Plockas", "Picking"),
    (3, "completed", "Skickad", "Completed"),
    (4, "canceled", "Makulerad", "Canceled"),
    (5, None, "Inväntar betalning", "Awaiting payment"),
)
STATUS_CREATED, STATUS_PICKING, STATUS_COMPLETED, STATUS_CANCELED, STATUS_AWAITING_PAYMENT = 1, 2, 3, 4, 5
MASTER_PRICELIST = 1
WAREHOUSE = 1
COUNTRIES = ("DK", "SE", "NO", "FI", "DE")


def seeded_state(seed: int = 0, orders: int = 0, *, clock: Callable[[], datetime] | None = None) -> StarwebState:
    """The demo shop: catalogue, customers, methods and statuses, then `orders` random orders."""
    state = StarwebState() if clock is None else StarwebState(clock=clock)
    _seed_shop(state)
    _seed_methods(state)
    for product in catalog.DEMO_PRODUCTS:
        _add_catalog_product(state, product)
    for person in catalog.DEMO_CUSTOMERS:
        _add_customer(state, person)
    rng = random.Random(seed)
    for _ in range(orders):
        place_order(state, rng=rng)
    return state


def _seed_shop(state: StarwebState) -> None:
    state.shop = {
        "name": "ShopBridge demo", "idCode": state.shop_code, "status": "open", "defaultLangCode": "sv",
        "activeLangCodes": ["sv", "en"], "baseCurrency": state.base_currency, "defaultCustomerCountryCode": "DK",
        "generalDefaultVatRate": 25.0, "shopCompanyName": "ShopBridge Demo ApS", "shopAddress": "Havnegade 1",
        "shopPostalCode": "1058", "shopCity": "København K", "shopOrgNo": "12345678", "shopPhoneNo": "+4570000000",
        "shopVatNo": "DK12345678", "shopCountryCode": state.country,
    }  # fmt: skip
    state.currencies[state.base_currency] = {"code": state.base_currency, "exchangeRate": Decimal(1), "precision": 2}
    state.currencies["SEK"] = {"code": "SEK", "exchangeRate": Decimal("0.65"), "precision": 2}
    for code in COUNTRIES:
        rate = Decimal(24 if code == "FI" else 19 if code == "DE" else 25)
        state.vat_rates[code] = {"countryCode": code, "defaultVatRate": rate, "fixedOrderPaymentVatRate": rate,
                                 "fixedOrderShippingVatRate": rate, "fixedOrderDiscountVatRate": rate}  # fmt: skip
    for status_id, id_code, swedish, english in STATUSES:
        status: Record = {"statusId": status_id, "shouldSendEmail": id_code is not None,
                          "languages": [{"langCode": "sv", "name": swedish}, {"langCode": "en", "name": english}]}
        if id_code:
            status["idCode"] = id_code
        state.order_statuses[status_id] = status
    state._counters["order_statuses"] = len(STATUSES)


def _seed_methods(state: StarwebState) -> None:
    common: Record = {"active": True, "validForCountries": "all", "validCountriesSelected": [],
                      "validForMinItemsSubtotal": None, "validForMaxItemsSubtotal": None, "validForMinWeight": None,
                      "validForMaxWeight": None, "validForCustomerType": None, "isClickAndCollect": False}  # fmt: skip
    for method_id, id_code, name in ((1, "card", "Kort"), (2, "invoice", "Faktura")):
        state.payment_methods[method_id] = {
            "paymentMethodId": method_id, "idCode": id_code, "fee": Decimal(0), "validForShippingMethods": "all",
            **common, "languages": {"data": [{"langCode": "sv", "name": name, "title": name, "shortDescription": ""}]},
        }  # fmt: skip
    state.shipping_methods[1] = {
        "shippingMethodId": 1, **common, "freeShippingMinItemsSubtotal": None, "freeShippingMinWeight": None,
        "languages": {"data": [{"langCode": "sv", "name": "PostNord", "title": "PostNord", "shortDescription": ""}]},
    }  # fmt: skip
    state.pricelists[MASTER_PRICELIST] = {
        "pricelistId": MASTER_PRICELIST, "name": "Standard", "isMaster": True, "isActive": True, "region": "all",
        "countryCodes": [], "currencyCode": state.base_currency, "isCustomerPricelist": False,
        "isCountryPricelist": False,
    }  # fmt: skip
    state.stock_locations[WAREHOUSE] = {
        "stockLocationId": WAREHOUSE, "visibility": "show_if_in_stock", "sortIndex": 1, "ecommerceStockLocation": True,
        "languages": {"data": [{"langCode": "sv", "name": "Lager"}]},
    }  # fmt: skip


def add_product(state: StarwebState, sku: str, name: str, price: Decimal, vat_percent: Decimal = Decimal(25),
                variants: Sequence[tuple[str, Decimal]] = (), stock: int = 100) -> int:
    """A product whose variants sell the given SKUs (one variant selling `sku` when none are given)."""
    product_id = state.next_id("products")
    now = state.clock()
    state.products[product_id] = {
        "productId": product_id, "createdAt": now, "modifiedAt": now, "defaultVatRate": str(vat_percent),
        "visibility": "visible", "type": "basic", "isBackInStockWatchable": False, "priceMode": "normal",
        "languages": [{"langCode": "sv", "name": name, "shortDescription": "", "permalink": _slug(name)}],
        "vatRates": [{"countryCode": code, "vatRate": float(vat_percent)} for code in COUNTRIES],
        "variants": [_variant(state, variant_sku, price + impact, stock) for variant_sku, impact in
                     (variants or [(sku, Decimal(0))])],
    }  # fmt: skip
    return product_id


def _variant(state: StarwebState, sku: str, price: Decimal, stock: int) -> Record:
    return {
        "variantId": state.next_id("variants"), "sku": sku, "isActive": True, "sortIndex": 0, "stockStatusId": 1,
        "stockQuantity": stock, "weightInKg": 0.3, "costPrice": "0", "attributeValueLinks": [],
        "prices": {MASTER_PRICELIST: {"pricelistId": MASTER_PRICELIST, "priceExVat": price}},
        "stocks": {WAREHOUSE: {"stockLocationId": WAREHOUSE, "stockStatusId": 1, "stockQuantity": stock}},
    }  # fmt: skip


def _add_catalog_product(state: StarwebState, product: catalog.CatalogProduct) -> None:
    variants = [(variant.sku, variant.price_impact) for variant in product.variants]
    add_product(state, product.sku, product.name, product.price, product.vat_rate * 100, variants, product.stock)


def _slug(name: str) -> str:
    return "-".join("".join(char for char in name.lower() if char.isalnum() or char == " ").split())


def _address(person: catalog.CatalogCustomer) -> Record:
    return {"companyName": person.company, "firstName": person.first_name, "lastName": person.last_name,
            "address": person.street, "postalCode": person.postcode, "city": person.city,
            "countryCode": person.country, "phoneNo": person.phone, "mobilePhoneNo": ""}  # fmt: skip


def _add_customer(state: StarwebState, person: catalog.CatalogCustomer) -> int:
    customer_id = state.next_id("customers")
    now = state.clock()
    address = _address(person)
    state.customers[customer_id] = {
        "customerId": customer_id, "createdAt": now, "modifiedAt": now,
        "type": "company" if person.company else "person", "email": person.email, "nationalIdNo": "",
        "vatNo": "", "customInfo1": "", "customInfo2": "", "approved": True, "approvedAt": now, "pricelistId": None,
        "langCode": "sv", "addresses": {"invoice": address, "delivery": dict(address)}, "tags": [],
        "externalServices": [],
    }  # fmt: skip
    return customer_id


def place_order(state: StarwebState, *, customer_email: str | None = None,
                lines: Sequence[tuple[str, int]] | None = None, status: int = STATUS_CREATED,
                complete: bool = True, rng: random.Random | None = None) -> int:
    """A checked-out order at `state.clock()`, announced to the order-created webhooks; returns its id."""
    rng = rng or random.Random(len(state.orders))
    customer = _customer(state, customer_email, rng)
    chosen = list(lines) if lines is not None else _random_lines(rng)
    order_id = state.next_id("orders")
    now = state.clock()
    state.orders[order_id] = _order(state, order_id, customer, now, status, complete)
    state.orders[order_id]["items"] = [_item(state, sku, quantity, index) for index, (sku, quantity) in
                                       enumerate(chosen)]  # fmt: skip
    announce(state, "order-created", state.orders[order_id])
    return order_id


def _customer(state: StarwebState, email: str | None, rng: random.Random) -> Record:
    if email is None:
        return state.customers[rng.choice(sorted(state.customers))]
    for customer in state.customers.values():
        if customer["email"] == email:
            return customer
    raise LookupError(f"no customer {email!r}")


def _random_lines(rng: random.Random) -> list[tuple[str, int]]:
    skus = [sku for sku in catalog.all_skus() if sku != "GIFTCARD"]
    return [(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3))]


def _order(state: StarwebState, order_id: int, customer: Record, now: datetime, status: int,
           complete: bool) -> Record:
    invoice = customer["addresses"]["invoice"]
    return {
        "orderId": order_id, "createdAt": now, "modifiedAt": now, "customerId": customer["customerId"],
        "statusId": status, "sendEmailsOnStatusChange": True, "shippingMethodId": 1, "paymentMethodId": 1,
        "paymentMethodIdCode": "card", "paymentMethodName": "Kort", "paymentFee": Decimal(0),
        "paymentVatRate": Decimal(25), "shippingMethodName": "PostNord", "shippingCost": catalog.SHIPPING_NET,
        "shippingVatRate": Decimal(25), "totalWeight": 0.3, "customInfo1": "", "customInfo2": "", "customInfo3": "",
        "customInfo4": "", "discountCode": "", "amountPaid": Decimal(0), "isComplete": complete,
        "currencyCode": state.base_currency, "currencyExchangeRate": Decimal(1), "currencyPrecision": 2,
        "langCode": "sv", "paymentReference": f"PAY-{order_id}", "paymentStatus": "reserved", "isRead": False,
        "internalComment": "", "shippingTrackingNo": "", "originalCustomerEmail": customer["email"],
        "originalCustomerNationalIdNo": "", "originalCustomerVatNo": "",
        "addresses": {"originalInvoice": dict(invoice), "originalDelivery": dict(customer["addresses"]["delivery"])},
        "comments": [], "externalServices": [], "items": [],
    }  # fmt: skip


def _item(state: StarwebState, sku: str, quantity: int, index: int) -> Record:
    found = state.sku_variant(sku)
    if found is None:
        raise LookupError(f"no variant sells {sku!r}")
    product, variant = found
    return {
        "itemId": state.next_id("items"), "sku": sku, "description": product["languages"][0]["name"],
        "quantity": quantity, "unitSymbol": "st", "unitPrice": variant["prices"][MASTER_PRICELIST]["priceExVat"],
        "vatRate": Decimal(product["defaultVatRate"]), "discount": Decimal(0), "discountType": "percent",
        "sortIndex": index,
    }  # fmt: skip


def set_order_status(state: StarwebState, order_id: int, status_id: int) -> None:
    """Move an order to another status as the admin does; bumps `modifiedAt` and tells the webhooks."""
    order = state.orders[order_id]
    order["statusId"] = status_id
    touch_order(state, order)
    announce(state, "order-status-changed", order)


def touch_order(state: StarwebState, order: Record) -> None:
    order["modifiedAt"] = state.clock()
