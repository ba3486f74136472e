"""A seeded Norce tenant from the shared demo catalogue, and functions that act as a shopper or an admin."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from shopbridge.sandbox.catalog import DEMO_CUSTOMERS, DEMO_PRODUCTS, SHIPPING_NET, CatalogCustomer, CatalogProduct
from shopbridge.sandbox.norce.state import (
    Channel,
    NorceState,
    Onhand,
    Order,
    OrderItem,
    Person,
    PriceList,
    Product,
    Sku,
    SkuPrice,
    Status,
    Variant,
)

DEMO_CLIENT_ID = "shopbridge-demo"
DEMO_CLIENT_SECRET = "norce-demo-secret-7f3a9c"
SEK_PER_100_DKK = Decimal("146")
CENT = Decimal("0.01")
CANCELLABLE = frozenset({Status.CREATED, Status.ALLOCATION, Status.CONFIRMED, Status.BACK_ORDER})


def demo_channels() -> dict[int, Channel]:
    return {
        101: Channel(101, "5b1f0c2e-1111-2222-3333-444455556601", "demo-dk", "DKK", "da-DK", "DK-B2C", "MAIN", "WEB"),
        102: Channel(102, "5b1f0c2e-1111-2222-3333-444455556602", "demo-se", "SEK", "sv-SE", "SE-B2C", "MAIN", "WEB"),
    }


def seeded_state(seed: int = 0, orders: int = 0) -> NorceState:
    """Two channels (Denmark in DKK, Sweden in SEK), the demo catalogue priced in both, stock in MAIN/WEB."""
    state = NorceState(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, channels=demo_channels())
    state.warehouses = {"MAIN": ["WEB", "STORE"]}
    for channel in state.channels.values():
        stock = {channel.warehouse: [channel.location]}
        state.price_lists[channel.price_list] = PriceList(channel.price_list, channel.name, channel.currency, stock)
    for product in DEMO_PRODUCTS:
        _seed_product(state, product)
    rng = random.Random(seed)
    for _ in range(orders):
        channel_id = rng.choice(sorted(state.channels))
        place_order(state, channel_id, customer=rng.choice(DEMO_CUSTOMERS), rng=rng, status=Status.CONFIRMED)
    return state


def _seed_product(state: NorceState, product: CatalogProduct) -> None:
    """One cluster; a product without variants is a cluster of one variant, as in Norce."""
    options = [(v.sku, v.options, v.price_impact) for v in product.variants] or [(product.sku, {}, Decimal(0))]
    cluster = Product(product.sku, product.name)
    for sku, parametrics, impact in options:
        cluster.variants.append(Variant(sku, sku, dict(parametrics)))
        add_product(state, sku, product.name, product.price + impact, product.vat_rate * 100, product.sku)
        state.onhands[(sku, "MAIN", "WEB")] = Onhand(sku, "MAIN", "WEB", Decimal(product.stock))
    state.products[cluster.code] = cluster


def add_product(
    state: NorceState, part_no: str, name: str, price_dkk: Decimal, vat_percent: Decimal = Decimal("25"),
    product_code: str = "",
) -> None:
    """A SKU priced on every channel's price list (SEK at a fixed rate)."""
    state.skus[part_no] = Sku(part_no, name, Decimal(vat_percent), product_code or part_no)
    if not product_code:
        state.products.setdefault(part_no, Product(part_no, name, variants=[Variant(part_no, part_no)]))
    for channel in state.channels.values():
        price = price_dkk if channel.currency == "DKK" else (price_dkk * SEK_PER_100_DKK / 100).quantize(CENT)
        state.prices[(part_no, channel.price_list)] = SkuPrice(part_no, channel.price_list, price, channel.currency)


def place_order(
    state: NorceState,
    channel_id: int = 101,
    lines: list[tuple[str, int]] | None = None,
    status: int = Status.CONFIRMED,
    customer: CatalogCustomer | None = None,
    customer_email: str | None = None,
    rng: random.Random | None = None,
) -> str:
    """A completed checkout in one channel; returns the order number (ClientOrderRef)."""
    channel = state.channels[channel_id]
    rng = rng or random.Random(state.next_order_id)
    buyer = _person(customer or rng.choice(DEMO_CUSTOMERS), customer_email)
    chosen = lines or [(sku, rng.randint(1, 3)) for sku in rng.sample(sorted(_buyable(state)), 2)]
    items = [_item(state, channel, number, sku, quantity) for number, (sku, quantity) in enumerate(chosen, 1)]
    state.next_order_id += 1
    state.next_order_no += 1
    freight = SHIPPING_NET if channel.currency == "DKK" else (SHIPPING_NET * SEK_PER_100_DKK / 100).quantize(CENT)
    order = Order(
        id=state.next_order_id, order_no=str(state.next_order_no), application_id=channel_id, status=status,
        created=state.now(), updated=None, currency=channel.currency, buyer=buyer, delivery=buyer, items=items,
        freight=freight, payment_ref=str(uuid.UUID(int=rng.getrandbits(128))), payment_method="KLARNA",
        history=[Status.CREATED] if status == Status.CREATED else [Status.CREATED, status],
    )  # fmt: skip
    state.orders[order.id] = order
    return order.order_no


def _buyable(state: NorceState) -> list[str]:
    return [sku.part_no for sku in state.skus.values() if sku.status == 1]


def _person(customer: CatalogCustomer, email: str | None) -> Person:
    return Person(customer.first_name, customer.last_name, email or customer.email, customer.company,
                  customer.phone, customer.street, customer.postcode, customer.city, customer.country)  # fmt: skip


def _item(state: NorceState, channel: Channel, number: int, part_no: str, quantity: int) -> OrderItem:
    sku = state.skus[part_no]
    price = state.prices[(part_no, channel.price_list)].price_sale
    return OrderItem(number, part_no, sku.name, Decimal(quantity), price, sku.vat_rate)


def set_order_status(state: NorceState, order_no: str, status: int) -> Order:
    """Move an order on, as Admin or the ERP acknowledgement does; stamps `Updated`."""
    order = state.order_by_no(order_no)
    if order is None:
        raise KeyError(f"no order {order_no}")
    if status == Status.CANCELLED and order.status not in CANCELLABLE:
        raise ValueError(f"order {order_no} is past delivery and cannot be cancelled")
    order.status = status
    order.history.append(status)
    order.updated = state.now()
    return order


def order_gross(order: Order) -> Decimal:
    """What the buyer paid: each line and the freight rounded with VAT, then summed."""
    lines = sum((_with_vat(item.line_amount, item.vat_rate) for item in order.items), Decimal("0"))
    top_rate = max((item.vat_rate for item in order.items), default=Decimal("0"))
    return lines + _with_vat(order.freight, top_rate)


def _with_vat(net: Decimal, percent: Decimal) -> Decimal:
    return (net * (1 + percent / 100)).quantize(CENT, rounding=ROUND_HALF_UP)


def arrive_late(state: NorceState, order_no: str, delay: timedelta) -> None:
    """Keep an order out of Query answers for `delay` (0 releases it), keeping its own times."""
    order = state.order_by_no(order_no)
    if order is None:
        raise KeyError(f"no order {order_no}")
    order.visible_after = state.now() + delay if delay else None


def touch(state: NorceState, order_no: str, later: timedelta = timedelta(0)) -> None:
    """An edit in Admin that changes nothing but `Updated`."""
    order = state.order_by_no(order_no)
    if order is not None:
        order.updated = state.now() + later
