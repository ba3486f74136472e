"""Split an order-level discount over goods at several VAT rates into one discount line per rate.

Bookkeeping reduces each rate's turnover and VAT by that rate's share of the discount, the share
being its part of the goods' net amount. A shop that prints one discount over 25 % goods and a
0 % gift card gives it a blended rate (4.13 %) no ERP can book; split, each line carries a real
rate, and the parts add up to the shop's net and gross discount exactly.
"""

from __future__ import annotations

from decimal import Decimal

from shopbridge.model.money import Money, round_cents
from shopbridge.model.order import OrderLine, OrderLineKind


def split_discounts(lines: list[OrderLine]) -> list[OrderLine]:
    """`lines` with every discount line split per VAT rate of the product lines, if they mix rates."""
    bases = _net_by_rate(lines)
    if len(bases) < 2 or sum(bases.values()) <= 0:
        return lines
    result: list[OrderLine] = []
    for line in lines:
        result.extend(_split(line, bases) if line.kind is OrderLineKind.DISCOUNT else [line])
    return result


def _net_by_rate(lines: list[OrderLine]) -> dict[Decimal, Decimal]:
    """The product lines' net amount per VAT rate, highest amount first."""
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        if line.kind is OrderLineKind.PRODUCT:
            bases[line.vat_rate] = bases.get(line.vat_rate, Decimal(0)) + line.total_net.amount
    positive = {rate: base for rate, base in bases.items() if base > 0}
    return dict(sorted(positive.items(), key=lambda item: (-item[1], -item[0])))


def _split(discount: OrderLine, bases: dict[Decimal, Decimal]) -> list[OrderLine]:
    total_base = sum(bases.values())
    rates = list(bases)
    nets = [round_cents(discount.total_net.amount * bases[rate] / total_base) for rate in rates]
    # The largest share takes what rounding left over, so net and gross add up to the shop's
    # to the öre; its VAT is then off its rate by that öre or two at most.
    nets[0] += discount.total_net.amount - sum(nets)
    grosses = [round_cents(net * (1 + rate)) for net, rate in zip(nets, rates, strict=True)]
    grosses[0] += discount.total_gross.amount - sum(grosses)
    parts = zip(rates, nets, grosses, strict=True)
    return [_part(discount, rate, net, gross) for rate, net, gross in parts if net or gross]


def _part(discount: OrderLine, rate: Decimal, net: Decimal, gross: Decimal) -> OrderLine:
    currency = discount.total_net.currency
    return OrderLine(
        kind=OrderLineKind.DISCOUNT,
        name=f"{discount.name} ({format((rate * 100).normalize(), 'f')} % VAT)",
        quantity=Decimal(1),
        unit_price=Money(amount=net, currency=currency),
        vat_rate=rate,
        total_net=Money(amount=net, currency=currency),
        total_gross=Money(amount=gross, currency=currency),
    )
