"""The contract every DocumentSink connector meets against its emulator, as plain async functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shopbridge.connectors.base import DocumentKind, DocumentRef, DocumentSink
from shopbridge.connectors.calls import READ_REPEAT_MAX_WAIT_SECONDS, READ_REPEATS
from shopbridge.errors import ConfigError, DataError, TransientError
from shopbridge.model import Address, Customer, Money, Order, OrderLine, OrderLineKind, round_cents
from shopbridge.sandbox import catalog
from shopbridge.sandbox.faults import FaultPlan, FaultRule

CURRENCY = "DKK"
ORDER_TIME = datetime(2024, 10, 24, 9, 30, tzinfo=UTC)


# ---- canonical orders for tests -------------------------------------------------------------


def address(country: str = "DK", **fields: str) -> Address:
    values = {"first_name": "Anna", "last_name": "Jensen", "street": "Vestergade 12", "postcode": "8000",
              "city": "Aarhus C", "country": country} | fields  # fmt: skip
    return Address(**values)


def customer(email: str = "anna.jensen@example.dk", country: str = "DK", **fields: str) -> Customer:
    values = {"first_name": "Anna", "last_name": "Jensen"} | fields
    return Customer(email=email, address=address(country), **values)


def line(
    kind: OrderLineKind, name: str, quantity: str, unit_net: str, vat_rate: str, sku: str = "", currency: str = CURRENCY
) -> OrderLine:
    """A line whose totals follow from its unit price, the way shops compute them per line."""
    return OrderLine.priced(kind, name, Decimal(quantity), Money.of(unit_net, currency), Decimal(vat_rate), sku)


def product(sku: str, quantity: str, unit_net: str, vat_rate: str = "0.25", name: str = "") -> OrderLine:
    return line(OrderLineKind.PRODUCT, name or f"Article {sku}", quantity, unit_net, vat_rate, sku)


def discount(amount_net: str, vat_rate: str = "0.25") -> OrderLine:
    return line(OrderLineKind.DISCOUNT, "Voucher", "1", f"-{amount_net}", vat_rate)


def shipping(unit_net: str = "39.20", vat_rate: str = "0.25") -> OrderLine:
    return line(OrderLineKind.SHIPPING, "Delivery to a pick-up point", "1", unit_net, vat_rate)


def order(
    lines: Sequence[OrderLine],
    order_id: str = "1001",
    buyer: Customer | None = None,
    total_gross: Decimal | None = None,
    country: str | None = None,
) -> Order:
    """An order whose totals are the sums of its lines unless `total_gross` says otherwise."""
    buyer = buyer or customer()
    billing = address(country or buyer.address.country)
    net = sum((item.total_net.amount for item in lines), Decimal(0))
    gross = total_gross if total_gross is not None else sum((item.total_gross.amount for item in lines), Decimal(0))
    return Order(
        id=order_id, reference=f"WEB{order_id}", created_at=ORDER_TIME, updated_at=ORDER_TIME, currency=CURRENCY,
        customer=buyer, billing_address=billing, shipping_address=billing, lines=list(lines),
        total_net=Money.of(net, CURRENCY), total_gross=Money.of(gross, CURRENCY),
    )  # fmt: skip


def line_vat_total(placed: Order) -> Decimal:
    """The VAT an ERP computing per line arrives at."""
    return sum((round_cents(item.total_vat.amount) for item in placed.lines), Decimal(0))


# ---- the contract ---------------------------------------------------------------------------


@dataclass
class SinkHarness:
    """A DocumentSink wired to its emulator, and the few facts about that emulator the contract needs."""

    connector: DocumentSink
    faults: FaultPlan
    document_totals: Callable[[str], tuple[Decimal, Decimal] | None]  # reference → (gross, VAT) as the ERP has them
    connect_with_bad_credentials: Callable[[], DocumentSink]
    document_path: Callable[[DocumentKind], str]  # the request path that creates a document of that kind


def _priced(sku: str) -> tuple[str, str]:
    for item in catalog.DEMO_PRODUCTS:
        if sku in item.skus:
            return str(item.price), str(item.vat_rate)
    raise LookupError(sku)


def catalog_line(sku: str, quantity: str) -> OrderLine:
    price, rate = _priced(sku)
    return product(sku, quantity, price, rate)


def demo_order(order_id: str, buyer: Customer | None = None, **overrides: Decimal) -> Order:
    """A domestic order of demo-catalog articles (one with öre that do not divide evenly) and shipping."""
    lines = [catalog_line("MUG-01", "2"), catalog_line("BAG-TOTE", "3"), shipping(str(catalog.SHIPPING_NET))]
    return order(lines, order_id=order_id, buyer=buyer, **overrides)


def reference_for(order_id: str) -> str:
    return f"contract-connection/default/{order_id}"


def preferred_kind(sink: SinkHarness) -> DocumentKind:
    """An invoice where the ERP takes them, else the one kind of document it does take."""
    kinds = sink.connector.capabilities.documents
    return DocumentKind.INVOICE if DocumentKind.INVOICE in kinds else min(kinds)


async def first_document(
    connector: DocumentSink, reference: str, kind: DocumentKind | None = None
) -> DocumentRef | None:
    """The document the flow would adopt for this reference: the first one found, best first."""
    kinds = connector.capabilities.documents
    wanted = kind or (DocumentKind.INVOICE if DocumentKind.INVOICE in kinds else min(kinds))
    found = await connector.find_documents(reference, wanted)
    return found[0] if found else None


async def _placed(sink: SinkHarness, placed: Order, kind: DocumentKind | None = None) -> str:
    """Write `placed` as a document the way the order flow does; returns its reference."""
    kind = kind or preferred_kind(sink)
    reference = reference_for(placed.id)
    connector = sink.connector
    customer_id = await connector.find_customer(placed.customer) or await connector.create_customer(
        placed.customer, placed
    )
    await connector.create_document(placed, customer_id, kind, reference)
    return reference


async def check_accepts_valid_credentials(sink: SinkHarness) -> None:
    await sink.connector.check()


async def check_refuses_bad_credentials(sink: SinkHarness) -> None:
    wrong = sink.connect_with_bad_credentials()
    try:
        with pytest.raises(ConfigError):
            await wrong.check()
    finally:
        await wrong.aclose()


async def customer_is_found_once_created(sink: SinkHarness) -> None:
    buyer = customer("new.buyer@example.dk", first_name="New", last_name="Buyer")
    assert await sink.connector.find_customer(buyer) is None
    created = await sink.connector.create_customer(buyer, demo_order("2001", buyer=buyer))
    assert await sink.connector.find_customer(buyer) == created


async def missing_skus_names_only_unknown_skus(sink: SinkHarness) -> None:
    known = catalog.all_skus()
    assert await sink.connector.missing_skus([*known, "NO-SUCH-SKU", "ALSO/MISSING"]) == {"NO-SUCH-SKU", "ALSO/MISSING"}


async def each_document_kind_is_found_by_its_reference(sink: SinkHarness) -> None:
    for number, kind in enumerate(sorted(sink.connector.capabilities.documents), 3001):
        placed = demo_order(str(number))
        reference = reference_for(placed.id)
        customer_id = await sink.connector.create_customer(placed.customer, placed)
        created = await sink.connector.create_document(placed, customer_id, kind, reference)
        found = await first_document(sink.connector, reference, kind)
        assert found is not None and (found.kind, found.number, found.reference) == (
            created.kind, created.number, reference
        )


async def unknown_reference_finds_nothing(sink: SinkHarness) -> None:
    await _placed(sink, demo_order("3101"))
    assert await first_document(sink.connector, reference_for("3102")) is None
    assert await first_document(sink.connector, reference_for("310")) is None


async def reference_with_query_characters_is_found(sink: SinkHarness) -> None:
    placed = demo_order("A(1)*,$[x]$")
    reference = await _placed(sink, placed)
    found = await first_document(sink.connector, reference)
    assert found is not None and found.reference == reference


async def booked_invoice_totals_equal_the_order_to_the_ore(sink: SinkHarness) -> None:
    placed = demo_order("4001")
    reference = await _placed(sink, placed)
    draft = await first_document(sink.connector, reference)
    assert draft is not None
    booked = await sink.connector.book_invoice(draft)
    assert booked.kind != draft.kind
    found = await first_document(sink.connector, reference)
    assert found is not None and (found.kind, found.number) == (booked.kind, booked.number)
    assert sink.document_totals(reference) == (placed.total_gross.amount, placed.total_vat.amount)


async def booking_a_booked_invoice_returns_it_unchanged(sink: SinkHarness) -> None:
    reference = await _placed(sink, demo_order("4101"))
    draft = await first_document(sink.connector, reference)
    assert draft is not None
    booked = await sink.connector.book_invoice(draft)
    assert await sink.connector.book_invoice(booked) == booked
    again = await sink.connector.book_invoice(draft)  # the draft is gone; its booked invoice is the answer
    assert (again.kind, again.number) == (booked.kind, booked.number)


async def shop_rounding_is_settled_to_the_ore(sink: SinkHarness) -> None:
    exact = demo_order("4201")
    placed = demo_order("4201", total_gross=exact.total_gross.amount + Decimal("0.03"))
    reference = await _placed(sink, placed)
    assert sink.document_totals(reference) == (placed.total_gross.amount, line_vat_total(placed))


async def foreign_customer_without_vat_pays_no_vat(sink: SinkHarness) -> None:
    buyer = customer("erik.svensson@example.se", country="SE", first_name="Erik", last_name="Svensson")
    price, _ = _priced("MUG-01")
    placed = order([product("MUG-01", "2", price, "0")], order_id="4301", buyer=buyer)
    reference = await _placed(sink, placed)
    assert sink.document_totals(reference) == (placed.total_gross.amount, Decimal("0.00"))


async def rate_limit_is_transient_with_retry_after(sink: SinkHarness) -> None:
    # A Retry-After longer than a read's own short repeats allow is left to the engine's retry.
    wait = READ_REPEAT_MAX_WAIT_SECONDS + 1
    sink.faults.add(FaultRule(kind="status", status=429, retry_after=wait, times=1))
    with pytest.raises(TransientError) as caught:
        await first_document(sink.connector, reference_for("5001"))
    assert caught.value.retry_after == wait
    assert await first_document(sink.connector, reference_for("5001")) is None


async def server_error_is_transient(sink: SinkHarness) -> None:
    sink.faults.add(FaultRule(kind="status", status=503, times=READ_REPEATS + 1))
    with pytest.raises(TransientError):
        await sink.connector.check()
    await sink.connector.check()


async def a_passing_failure_of_a_read_is_absorbed(sink: SinkHarness) -> None:
    sink.faults.add(FaultRule(kind="status", status=503, times=1))
    await sink.connector.check()
    assert sink.faults.fired == 1


async def answer_lost_after_commit_is_transient_and_the_document_exists(sink: SinkHarness) -> None:
    placed = demo_order("5101")
    customer_id = await sink.connector.create_customer(placed.customer, placed)
    path = sink.document_path(preferred_kind(sink))
    sink.faults.add(FaultRule(kind="drop_after_commit", method="POST", path=path, times=1))
    with pytest.raises(TransientError):
        await sink.connector.create_document(placed, customer_id, preferred_kind(sink), reference_for(placed.id))
    found = await first_document(sink.connector, reference_for(placed.id))
    assert found is not None and found.reference == reference_for(placed.id)


async def unknown_product_is_a_data_error_and_writes_nothing(sink: SinkHarness) -> None:
    placed = order([catalog_line("MUG-01", "1"), product("NO-SUCH-SKU", "1", "10.00")], order_id="5201")
    customer_id = await sink.connector.create_customer(placed.customer, placed)
    with pytest.raises(DataError):
        await sink.connector.create_document(placed, customer_id, preferred_kind(sink), reference_for(placed.id))
    assert await first_document(sink.connector, reference_for(placed.id)) is None
    assert sink.document_totals(reference_for(placed.id)) is None


CONTRACT: tuple[Callable[[SinkHarness], Awaitable[None]], ...] = (
    check_accepts_valid_credentials,
    check_refuses_bad_credentials,
    customer_is_found_once_created,
    missing_skus_names_only_unknown_skus,
    each_document_kind_is_found_by_its_reference,
    unknown_reference_finds_nothing,
    reference_with_query_characters_is_found,
    booked_invoice_totals_equal_the_order_to_the_ore,
    booking_a_booked_invoice_returns_it_unchanged,
    shop_rounding_is_settled_to_the_ore,
    foreign_customer_without_vat_pays_no_vat,
    rate_limit_is_transient_with_retry_after,
    server_error_is_transient,
    a_passing_failure_of_a_read_is_absorbed,
    answer_lost_after_commit_is_transient_and_the_document_exists,
    unknown_product_is_a_data_error_and_writes_nothing,
)
