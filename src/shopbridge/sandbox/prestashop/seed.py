"""Seeding of the emulated PrestaShop shop: base data, demo catalog and customers, orders as the shop stores them."""

from __future__ import annotations

import hashlib
import random
import re
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from shopbridge.sandbox import catalog
from shopbridge.sandbox.prestashop.state import (
    DEMO_API_KEY,
    PrestaShopState,
    Row,
    add_stock_row,
    adjust_stock,
    amount,
    change_order_state,
    resync_product_stock,
    text_of,
)

CENT = Decimal("0.01")
# Nordic letters spelled out the way shops write them in URLs; NFKD alone would drop Æ, Ø.
NORDIC_FOLDS = str.maketrans({"Æ": "Ae", "æ": "ae", "Ø": "Oe", "ø": "oe", "Å": "Aa", "å": "aa"})
# (id, iso, name, zone, call prefix, zip format) — ids as a PrestaShop install numbers them
COUNTRIES = ((1, "DE", "Germany", 1, "49", "NNNNN"), (18, "SE", "Sweden", 1, "46", "NNN NN"),
             (20, "DK", "Denmark", 1, "45", "NNNN"), (23, "NO", "Norway", 2, "47", "NNNN"))
# (name, template, colour, flags set to 1, module) for the 1.6 default ids 1-14 (spec §8.1)
ORDER_STATES = (
    ("Awaiting check payment", "cheque", "#4169E1", "send_email", "ps_checkpayment"),
    ("Payment accepted", "payment", "#32CD32", "send_email invoice logable paid pdf_invoice", ""),
    ("Processing in progress", "preparation", "#FF8C00", "send_email invoice logable paid delivery", ""),
    ("Shipped", "shipped", "#8A2BE2", "send_email invoice logable paid delivery shipped pdf_invoice pdf_delivery", ""),
    ("Delivered", "", "#108510", "invoice logable paid delivery shipped pdf_invoice pdf_delivery", ""),
    ("Canceled", "order_canceled", "#DC143C", "send_email", ""),
    ("Refunded", "refund", "#ec2e15", "send_email invoice paid pdf_invoice", ""),
    ("Payment error", "payment_error", "#8f0621", "send_email", ""),
    ("On backorder (paid)", "outofstock", "#FF69B4", "send_email invoice logable paid", ""),
    ("Awaiting bank wire payment", "bankwire", "#4169E1", "send_email", "ps_wirepayment"),
    ("Awaiting PayPal payment", "", "#4169E1", "", ""),
    ("Remote payment accepted", "payment", "#32CD32", "send_email invoice logable paid", ""),
    ("On backorder (not paid)", "outofstock", "#FF69B4", "send_email", ""),
    ("Awaiting Cash On Delivery validation", "cashondelivery", "#4169E1", "send_email logable", "ps_cashondelivery"),
)
STATE_FLAGS = ("unremovable", "delivery", "hidden", "send_email", "invoice", "logable", "shipped", "paid",
               "pdf_delivery", "pdf_invoice")
PAYMENT_MODULES = (("ps_wirepayment", "Bank wire"), ("ps_checkpayment", "Payments by check"))
COLOURS = {"Black": "#000000", "White": "#ffffff"}


def seeded_state(seed: int = 0, orders: int = 0, *, clock: Callable[[], datetime] | None = None) -> PrestaShopState:
    """A demo shop: base data, every demo product and customer, then `orders` random orders."""
    state = PrestaShopState(api_key=DEMO_API_KEY, rng=random.Random(seed))
    if clock is not None:
        state.clock = clock
    _seed_shop(state)
    _seed_taxes(state)
    _seed_order_states(state)
    _seed_carrier_and_groups(state)
    for product in catalog.DEMO_PRODUCTS:
        _add_catalog_product(state, product)
    for customer in catalog.DEMO_CUSTOMERS:
        _add_customer(state, customer)
    for _ in range(orders):
        place_order(state)
    return state


def _seed_shop(state: PrestaShopState) -> None:
    state.insert("languages", {"name": "English (English)", "iso_code": "en", "locale": "en-US",
                               "language_code": "en-us", "active": "1", "date_format_lite": "m/d/Y",
                               "date_format_full": "m/d/Y H:i:s"})
    state.insert("shop_groups", {"name": "Default", "active": "1"})
    state.insert("shops", {"id_shop_group": "1", "id_category": "2", "active": "1", "name": state.shop_name,
                           "theme_name": "classic"})
    now = state.now()
    state.insert("categories", {"id_parent": "0", "active": "1", "id_shop_default": "1", "name": "Root",
                                "link_rewrite": "root", "date_add": now, "date_upd": now})
    state.insert("categories", {"id_parent": "1", "active": "1", "id_shop_default": "1", "is_root_category": "1",
                                "name": "Home", "link_rewrite": "home", "date_add": now, "date_upd": now})
    state.insert("currencies", {"name": "Danish Krone", "symbol": "kr.", "iso_code": catalog.CURRENCY,
                                "numeric_iso_code": "208", "precision": "2", "conversion_rate": "1.000000",
                                "active": "1"})
    state.insert("zones", {"name": "Europe", "active": "1"})
    state.insert("zones", {"name": "Europe (non-EU)", "active": "1"})
    for country_id, iso, name, zone, prefix, zip_format in COUNTRIES:
        state.insert("countries", {"id_zone": str(zone), "id_currency": "0", "call_prefix": prefix, "iso_code": iso,
                                   "active": "1", "need_zip_code": "1", "zip_code_format": zip_format,
                                   "display_tax_label": "1", "name": name}, entity_id=country_id)


def _seed_taxes(state: PrestaShopState) -> None:
    for rate in (Decimal("0.25"), Decimal("0")):
        tax_group_for_rate(state, rate)


def tax_group_for_rate(state: PrestaShopState, rate: Decimal) -> int:
    """The tax rules group applying `rate` (a fraction) in every country, created on first use."""
    printed = amount(rate * 100, 3)
    for tax in state.find("taxes", rate=printed):
        for rule in state.find("tax_rules", id_tax=str(tax["id"])):
            return int(rule["id_tax_rules_group"])
    percent = f"{(rate * 100).normalize():f}"
    tax_id = state.insert("taxes", {"rate": printed, "active": "1", "name": f"Moms {percent}%"})
    now = state.now()
    group_id = state.insert("tax_rule_groups", {"name": f"VAT {percent}%", "active": "1",
                                                "date_add": now, "date_upd": now})
    for country in state.find("countries"):
        state.insert("tax_rules", {"id_tax_rules_group": str(group_id), "id_country": str(country["id"]),
                                   "id_tax": str(tax_id), "zipcode_from": "0", "zipcode_to": "0"})
    return group_id


def _seed_order_states(state: PrestaShopState) -> None:
    for name, template, colour, flags, module in ORDER_STATES:
        values = {flag: "1" if flag in flags.split() else "0" for flag in STATE_FLAGS}
        state.insert("order_states", {**values, "unremovable": "1", "module_name": module, "color": colour,
                                      "name": name, "template": template})


def _seed_carrier_and_groups(state: PrestaShopState) -> None:
    state.insert("carriers", {"id_tax_rules_group": str(tax_group_for_rate(state, catalog.VAT_RATE)),
                              "id_reference": "1", "name": "PostNord", "active": "1",
                              "url": "https://tracking.postnord.com/dk/?id=@", "shipping_method": "2",
                              "max_weight": "0.000000", "delay": "1-3 business days"})
    now = state.now()
    for name in ("Visitor", "Guest", "Customer"):
        state.insert("groups", {"reduction": "0.00", "price_display_method": "0", "show_prices": "1",
                                "date_add": now, "date_upd": now, "name": name})


# -- catalog ----------------------------------------------------------------------------------------

def add_product(state: PrestaShopState, sku: str, name: str, price: Decimal,
                vat_rate: Decimal = Decimal("0.25"), *, stock: int = 0) -> int:
    """A simple product with `reference` = SKU, net `price`, and one stock row holding `stock`."""
    now = state.now()
    product_id = state.insert("products", {
        "id_category_default": "2", "id_tax_rules_group": str(tax_group_for_rate(state, vat_rate)),
        "type": "simple", "product_type": "standard", "id_shop_default": "1", "reference": sku, "state": "1",
        "minimal_quantity": "1", "price": amount(price), "active": "1", "redirect_type": "404",
        "available_for_order": "1", "condition": "new", "show_price": "1", "indexed": "1", "visibility": "both",
        "pack_stock_type": "3", "date_add": now, "date_upd": now, "name": name, "link_rewrite": _slug(name),
        "available_now": "In stock", "associations": {"categories": [{"id": "2"}]},
    })
    add_stock_row(state, product_id, 0, stock)
    return product_id


def _add_catalog_product(state: PrestaShopState, product: catalog.CatalogProduct) -> None:
    stock = 0 if product.variants else product.stock
    product_id = add_product(state, product.sku, product.name, product.price, product.vat_rate, stock=stock)
    if product.variants:
        state.table("products")[product_id]["product_type"] = "combinations"
    for index, variant in enumerate(product.variants):
        add_combination(state, product_id, variant, product.stock, default=index == 0)


def add_combination(state: PrestaShopState, product_id: int, variant: catalog.CatalogVariant, stock: int,
                    default: bool = False) -> int:
    """One combination of a product: `reference` = variant SKU, `price` = the price impact."""
    values = [{"id": str(_option_value(state, group, value))} for group, value in variant.options.items()]
    combination_id = state.insert("combinations", {
        "id_product": str(product_id), "reference": variant.sku, "price": amount(variant.price_impact),
        "minimal_quantity": "1", "default_on": "1" if default else "",
        "associations": {"product_option_values": values},
    })
    if default:
        state.table("products")[product_id]["cache_default_attribute"] = str(combination_id)
    add_stock_row(state, product_id, combination_id, stock)
    resync_product_stock(state, product_id)
    return combination_id


def _option_value(state: PrestaShopState, group: str, value: str) -> int:
    groups = [row for row in state.find("product_options") if text_of(row, "name") == group]
    group_id = int(groups[0]["id"]) if groups else state.insert("product_options", {
        "is_color_group": "1" if group == "Colour" else "0", "group_type": "color" if group == "Colour" else "select",
        "position": str(len(state.table("product_options"))), "name": group, "public_name": group,
    })
    values = [row for row in state.find("product_option_values", id_attribute_group=str(group_id))
              if text_of(row, "name") == value]
    if values:
        return int(values[0]["id"])
    position = len(state.find("product_option_values", id_attribute_group=str(group_id)))
    return state.insert("product_option_values", {"id_attribute_group": str(group_id), "color": COLOURS.get(value, ""),
                                                  "position": str(position), "name": value})


def _slug(name: str) -> str:
    folded = name.translate(NORDIC_FOLDS)
    ascii_name = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _add_customer(state: PrestaShopState, person: catalog.CatalogCustomer) -> int:
    now = state.now()
    customer_id = state.insert("customers", {
        "id_default_group": "3", "id_lang": "1", "last_passwd_gen": now, "secure_key": _md5(person.email),
        "passwd": password_hash(person.email), "lastname": person.last_name, "firstname": person.first_name,
        "email": person.email, "company": person.company, "active": "1", "id_shop": "1", "id_shop_group": "1",
        "date_add": now, "date_upd": now, "associations": {"groups": [{"id": "3"}]},
    })
    country = next(row for row in state.find("countries") if row["iso_code"] == person.country)
    state.insert("addresses", {
        "id_customer": str(customer_id), "id_country": str(country["id"]), "alias": "My address",
        "company": person.company, "lastname": person.last_name, "firstname": person.first_name,
        "address1": person.street, "postcode": person.postcode, "city": person.city, "phone": person.phone,
        "date_add": now, "date_upd": now,
    })
    return customer_id


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def password_hash(password: str) -> str:
    """A stand-in for the bcrypt hash the shop stores; GET shows it, never the password."""
    return "$2y$10$" + hashlib.sha256(password.encode()).hexdigest()[:53]


# -- orders -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PricedLine:
    product: Row
    combination: Row | None
    quantity: int
    unit_excl: Decimal
    rate: Decimal
    name: str

    @property
    def unit_incl(self) -> Decimal:
        return self.unit_excl * (1 + self.rate)

    @property
    def total_excl(self) -> Decimal:
        return _cents(self.unit_excl) * self.quantity  # round per item (round_type 1)

    @property
    def total_incl(self) -> Decimal:
        return _cents(self.unit_incl) * self.quantity


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def place_order(state: PrestaShopState, *, customer_email: str | None = None,
                lines: list[tuple[str, int]] | None = None, status: int = 2,
                discount_percent: Decimal = Decimal("0"), rng: random.Random | None = None) -> int:
    """Store an order as a shop's checkout would have (cart-less); returns the new order id."""
    rng = rng or state.rng
    if status not in state.table("order_states"):
        raise ValueError(f"unknown order state {status}")
    customer = _customer(state, customer_email, rng)
    address = next((row for row in state.find("addresses", id_customer=str(customer["id"]))
                    if row["deleted"] == "0"), None)
    if address is None:
        raise ValueError(f"customer {customer['email']} has no address")
    priced = [_price_line(state, sku, quantity) for sku, quantity in (lines or _random_lines(state, rng))]
    if not priced:
        raise ValueError("an order needs at least one line")
    order_id = _insert_order(state, customer, address, priced, Decimal(discount_percent), rng)
    for line in priced:
        _insert_detail(state, order_id, line)
        attribute_id = int(line.combination["id"]) if line.combination else 0
        adjust_stock(state, int(line.product["id"]), attribute_id, -line.quantity)
    _insert_carrier_and_discount(state, order_id, Decimal(discount_percent))
    change_order_state(state, order_id, status)
    return order_id


def _customer(state: PrestaShopState, email: str | None, rng: random.Random) -> Row:
    customers = [row for row in state.find("customers", deleted="0") if email is None or row["email"] == email]
    if not customers:
        raise ValueError(f"no customer with e-mail {email}" if email else "the shop has no customers")
    return customers[0] if email else rng.choice(customers)


def _random_lines(state: PrestaShopState, rng: random.Random) -> list[tuple[str, int]]:
    sellable = [row["reference"] for row in state.find("combinations")]
    sellable += [row["reference"] for row in state.find("products")
                 if not state.find("combinations", id_product=str(row["id"]))]
    return [(sku, rng.randint(1, 3)) for sku in rng.sample(sorted(sellable), rng.randint(1, min(3, len(sellable))))]


def _price_line(state: PrestaShopState, sku: str, quantity: int) -> PricedLine:
    combination = next(iter(state.find("combinations", reference=sku)), None)
    product_id = int(combination["id_product"]) if combination else None
    product = state.table("products").get(product_id) if product_id else next(
        iter(state.find("products", reference=sku)), None)
    if product is None:
        raise ValueError(f"unknown SKU {sku}")
    unit = Decimal(product["price"]) + (Decimal(combination["price"]) if combination else 0)
    name = text_of(product, "name") + (_combination_suffix(state, combination) if combination else "")
    return PricedLine(product, combination, quantity, unit, _tax_rate(state, product), name)


def _combination_suffix(state: PrestaShopState, combination: Row) -> str:
    parts = []
    for item in combination["associations"].get("product_option_values", []):
        value = state.table("product_option_values")[int(item["id"])]
        group = state.table("product_options")[int(value["id_attribute_group"])]
        parts.append(f"{text_of(group, 'public_name')} : {text_of(value, 'name')}")
    return " - " + ", ".join(parts) if parts else ""


def _tax(state: PrestaShopState, product: Row) -> Row:
    rule = state.find("tax_rules", id_tax_rules_group=product["id_tax_rules_group"])[0]
    return state.table("taxes")[int(rule["id_tax"])]


def _tax_rate(state: PrestaShopState, product: Row) -> Decimal:
    return Decimal(_tax(state, product)["rate"]) / 100


def _insert_order(state: PrestaShopState, customer: Row, address: Row, priced: list[PricedLine],
                  discount_percent: Decimal, rng: random.Random) -> int:
    products_excl = sum((line.total_excl for line in priced), Decimal(0))
    products_incl = sum((line.total_incl for line in priced), Decimal(0))
    discount_excl = _cents(products_excl * discount_percent / 100)
    discount_incl = _cents(products_incl * discount_percent / 100)
    shipping_excl, shipping_incl = _shipping()
    paid_excl = products_excl + shipping_excl - discount_excl
    paid_incl = products_incl + shipping_incl - discount_incl
    module, payment = rng.choice(PAYMENT_MODULES)
    now = state.now()
    return state.insert("orders", {
        "id_address_delivery": str(address["id"]), "id_address_invoice": str(address["id"]),
        "id_currency": "1", "id_lang": "1", "id_customer": str(customer["id"]), "id_carrier": "1",
        "module": module, "payment": payment, "date_add": now, "date_upd": now, "id_shop_group": "1", "id_shop": "1",
        "secure_key": customer["secure_key"], "reference": "".join(rng.choices(string.ascii_uppercase, k=9)),
        "total_discounts": amount(discount_incl), "total_discounts_tax_incl": amount(discount_incl),
        "total_discounts_tax_excl": amount(discount_excl), "total_paid": amount(paid_incl),
        "total_paid_tax_incl": amount(paid_incl), "total_paid_tax_excl": amount(paid_excl),
        "total_products": amount(products_excl), "total_products_wt": amount(products_incl),
        "total_shipping": amount(shipping_incl), "total_shipping_tax_incl": amount(shipping_incl),
        "total_shipping_tax_excl": amount(shipping_excl), "carrier_tax_rate": amount(catalog.VAT_RATE * 100, 3),
        "round_mode": "2", "round_type": "1", "conversion_rate": "1.000000",
    })


def _shipping() -> tuple[Decimal, Decimal]:
    return catalog.SHIPPING_NET, _cents(catalog.SHIPPING_NET * (1 + catalog.VAT_RATE))


def _insert_detail(state: PrestaShopState, order_id: int, line: PricedLine) -> int:
    tax = _tax(state, line.product)
    unit_excl, unit_incl = amount(line.unit_excl), amount(line.unit_incl)
    return state.insert("order_details", {
        "id_order": str(order_id), "product_id": str(line.product["id"]),
        "product_attribute_id": str(line.combination["id"]) if line.combination else "0", "id_shop": "1",
        "product_name": line.name, "product_quantity": str(line.quantity),
        "product_quantity_in_stock": str(line.quantity), "product_price": unit_excl,
        "product_reference": (line.combination or line.product)["reference"],
        "id_tax_rules_group": line.product["id_tax_rules_group"], "unit_price_tax_incl": unit_incl,
        "unit_price_tax_excl": unit_excl, "total_price_tax_incl": amount(line.total_incl),
        "total_price_tax_excl": amount(line.total_excl), "original_product_price": unit_excl,
        "tax_rate": tax["rate"], "tax_name": text_of(tax, "name"),
        "associations": {"taxes": [{"id": str(tax["id"])}]},
    })


def _insert_carrier_and_discount(state: PrestaShopState, order_id: int, discount_percent: Decimal) -> None:
    order = state.table("orders")[order_id]
    state.insert("order_carriers", {
        "id_order": str(order_id), "id_carrier": order["id_carrier"], "weight": "0.000000",
        "shipping_cost_tax_excl": order["total_shipping_tax_excl"],
        "shipping_cost_tax_incl": order["total_shipping_tax_incl"], "date_add": order["date_add"],
    })
    if discount_percent > 0:
        state.insert("order_cart_rules", {
            "id_order": str(order_id), "id_cart_rule": str(state.next_id("cart_rules")),
            "name": f"{discount_percent.normalize():f} % off",
            "value": amount(Decimal(order["total_discounts_tax_incl"]), 2),
            "value_tax_excl": amount(Decimal(order["total_discounts_tax_excl"]), 2),
        })
