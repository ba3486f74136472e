from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from shopbridge.model import Money, Price, Product, StockLevel, Variant


def test_product_without_variants_sells_its_own_sku() -> None:
    assert Product(sku="MUG-01", name="Mug").skus == ["MUG-01"]


def test_product_with_variants_sells_the_variant_skus() -> None:
    product = Product(
        sku="TEE",
        name="T-shirt",
        variants=[Variant(sku="TEE-S", options={"Size": "S"}), Variant(sku="TEE-M", options={"Size": "M"})],
    )
    assert product.skus == ["TEE-S", "TEE-M"]


def test_product_refuses_variants_sharing_a_sku() -> None:
    with pytest.raises(ValidationError, match="same SKU"):
        Product(sku="TEE", name="T-shirt", variants=[Variant(sku="TEE-S"), Variant(sku="TEE-S")])


@pytest.mark.parametrize("rate", ["-0.01", "1", "25"])
def test_product_refuses_vat_rates_outside_a_fraction(rate: str) -> None:
    with pytest.raises(ValidationError, match="vat_rate is a fraction"):
        Product(sku="MUG", name="Mug", vat_rate=Decimal(rate))


def test_product_accepts_a_zero_vat_rate() -> None:
    assert Product(sku="BOOK", name="Book", vat_rate=Decimal("0")).vat_rate == Decimal("0")


def test_price_cannot_be_negative() -> None:
    with pytest.raises(ValidationError, match="negative"):
        Price(sku="MUG-01", price_list="retail", amount=Money.of("-1", "DKK"))


def test_stock_level_refuses_absurd_quantities() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        StockLevel(sku="MUG-01", quantity=Decimal("1e12"))


def test_stock_level_allows_oversold_negative_stock() -> None:
    assert StockLevel(sku="MUG-01", quantity=Decimal("-2")).quantity == Decimal("-2")
