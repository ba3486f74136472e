"""Products, variants, prices, price lists and stock levels."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopbridge.model.customer import clean_text
from shopbridge.model.money import Money, StrictDecimal, check_vat_rate

MAX_STOCK = Decimal("1000000000")


class Variant(BaseModel):
    """One sellable SKU of a product, told apart by option values such as size and colour."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1, max_length=64)
    options: dict[str, str] = {}
    price: Money | None = None
    ean: str = Field(default="", max_length=13)
    active: bool = True

    _clean = field_validator("sku")(clean_text)


class Product(BaseModel):
    """A catalog article; `price` is net of VAT. Variants, if any, carry their own SKUs."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10000)
    price: Money | None = None
    vat_rate: StrictDecimal = Decimal("0.25")
    active: bool = True
    ean: str = Field(default="", max_length=13)
    variants: list[Variant] = []

    _clean = field_validator("sku", "name")(clean_text)
    _sane_vat_rate = field_validator("vat_rate")(check_vat_rate)

    @model_validator(mode="after")
    def _unique_skus(self) -> Product:
        skus = [variant.sku for variant in self.variants]
        if len(skus) != len(set(skus)):
            raise ValueError(f"product {self.sku!r} has variants with the same SKU")
        return self

    @property
    def skus(self) -> list[str]:
        """Every sellable SKU: the variants', or the product's own when it has none."""
        return [variant.sku for variant in self.variants] or [self.sku]


class PriceList(BaseModel):
    """A named set of prices; in PrestaShop a customer group."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=255)
    currency: str = Field(min_length=3, max_length=3)
    includes_vat: bool = False


class Price(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1, max_length=64)
    price_list: str = Field(min_length=1, max_length=64)
    amount: Money
    min_quantity: int = Field(default=1, ge=1)

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, amount: Money) -> Money:
        if amount.amount < 0:
            raise ValueError(f"price cannot be negative, got {amount}")
        return amount


class StockLevel(BaseModel):
    """Quantity of one SKU in one warehouse; negative means oversold."""

    model_config = ConfigDict(frozen=True)

    sku: str = Field(min_length=1, max_length=64)
    warehouse: str = Field(default="default", min_length=1, max_length=64)
    quantity: StrictDecimal

    @field_validator("quantity")
    @classmethod
    def _sane_quantity(cls, quantity: Decimal) -> Decimal:
        if not quantity.is_finite() or abs(quantity) >= MAX_STOCK:
            raise ValueError(f"stock quantity {quantity} is out of range")
        return quantity
