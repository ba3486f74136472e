"""A discount on goods at several VAT rates is split per rate, in proportion to the net amounts."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, strategies as st

from shopbridge.model import Money, OrderLine, OrderLineKind
from shopbridge.model.discount import split_discounts


def goods(sku: str, net: str, rate: str) -> OrderLine:
    return OrderLine.priced(OrderLineKind.PRODUCT, sku, Decimal(1), Money(amount=Decimal(net), currency="DKK"),
                            Decimal(rate), sku=sku)  # fmt: skip


def discount(net: str, gross: str) -> OrderLine:
    return OrderLine(
        kind=OrderLineKind.DISCOUNT, name="Discount", quantity=Decimal(1),
        unit_price=Money(amount=Decimal(f"-{net}"), currency="DKK"), vat_rate=Decimal(0),
        total_net=Money(amount=Decimal(f"-{net}"), currency="DKK"),
        total_gross=Money(amount=Decimal(f"-{gross}"), currency="DKK"),
    )  # fmt: skip


def discounts(lines: list[OrderLine]) -> list[OrderLine]:
    return [line for line in lines if line.kind is OrderLineKind.DISCOUNT]


def test_ten_percent_off_goods_and_a_gift_card_becomes_one_discount_line_per_rate() -> None:
    # 240 net at 25 % and 400 at 0 %: 10 % off is 24 + 40 net, 30 + 40 gross (the shop prints 64 / 70).
    lines = split_discounts([goods("MUG-01", "240.00", "0.25"), goods("GIFTCARD", "400.00", "0"),
                             discount("64.00", "70.00")])  # fmt: skip
    parts = discounts(lines)
    assert [(p.vat_rate, p.total_net.amount, p.total_gross.amount) for p in parts] == [
        (Decimal("0"), Decimal("-40.00"), Decimal("-40.00")),
        (Decimal("0.25"), Decimal("-24.00"), Decimal("-30.00")),
    ]


def test_swedish_rates_split_three_ways_and_keep_net_and_gross() -> None:
    lines = [goods("A", "100.00", "0.25"), goods("B", "100.00", "0.12"), goods("C", "100.00", "0.06"),
             discount("30.00", "34.30")]  # fmt: skip
    parts = discounts(split_discounts(lines))
    assert sorted(p.vat_rate for p in parts) == [Decimal("0.06"), Decimal("0.12"), Decimal("0.25")]
    assert sum(p.total_gross.amount for p in parts) == Decimal("-34.30")
    assert sum(p.total_net.amount for p in parts) == Decimal("-30.00")


def test_a_discount_on_goods_at_one_rate_is_left_alone() -> None:
    lines = [goods("A", "100.00", "0.25"), goods("B", "50.00", "0.25"), discount("15.00", "18.75")]
    assert split_discounts(lines) == lines


RATES = st.sampled_from(["0", "0.06", "0.12", "0.25"])


@given(st.lists(st.tuples(st.integers(100, 100_000), RATES), min_size=2, max_size=6), st.integers(1, 90))
def test_split_keeps_net_and_gross_exactly_and_each_rates_vat(items: list[tuple[int, str]], percent: int) -> None:
    assume(len({rate for _, rate in items}) > 1)
    lines = [goods(f"S{i}", str(Decimal(cents) / 100), rate) for i, (cents, rate) in enumerate(items)]
    net = sum((line.total_net.amount for line in lines), Decimal(0)) * percent / 100
    gross = sum((line.total_gross.amount for line in lines), Decimal(0)) * percent / 100
    whole = discount(str(net.quantize(Decimal("0.01"))), str(gross.quantize(Decimal("0.01"))))
    parts = discounts(split_discounts([*lines, whole]))
    assert sum(p.total_net.amount for p in parts) == whole.total_net.amount
    assert sum(p.total_gross.amount for p in parts) == whole.total_gross.amount
    # Each part's VAT is its rate's but for rounding: half an öre per rounded amount.
    rounding = Decimal("0.005") * (len(lines) + len(parts) + 1)
    for part in parts:
        assert abs(part.total_vat.amount - part.total_net.amount * part.vat_rate) <= rounding
