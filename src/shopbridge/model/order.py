"""Orders, their lines, states, shipments and payments."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from shopbridge.model.customer import Address, Customer, clean_text
from shopbridge.model.money import Money, StrictDecimal, check_vat_rate, round_cents

MAX_QUANTITY = Decimal("1000000")


class OrderLineKind(StrEnum):
    PRODUCT = "product"
    SHIPPING = "shipping"
    FEE = "fee"
    DISCOUNT = "discount"


class OrderState(StrEnum):
    """Canonical order states; each connector maps its own statuses onto these."""

    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    PAYMENT_ERROR = "payment_error"
    BACKORDERED = "backordered"
    UNKNOWN = "unknown"


class OrderLine(BaseModel):
    """One line of an order. Prices are net (excluding VAT); `vat_rate` is a fraction (0.25)."""

    model_config = ConfigDict(frozen=True)

    kind: OrderLineKind
    name: str = Field(max_length=2500)
    sku: str = Field(default="", max_length=64)
    quantity: StrictDecimal
    unit_price: Money
    vat_rate: StrictDecimal
    total_net: Money
    total_gross: Money

    _clean = field_validator("name", "sku")(clean_text)

    @field_validator("quantity")
    @classmethod
    def _sane_quantity(cls, quantity: Decimal) -> Decimal:
        if not quantity.is_finite() or quantity <= 0 or quantity >= MAX_QUANTITY:
            raise ValueError(f"quantity must be above 0 and below {MAX_QUANTITY}, got {quantity}")
        return quantity

    _sane_vat_rate = field_validator("vat_rate")(check_vat_rate)

    @model_validator(mode="after")
    def _consistent(self) -> OrderLine:
        if self.kind is OrderLineKind.PRODUCT and not self.sku:
            raise ValueError(f"product line {self.name!r} has no SKU")
        currencies = {self.unit_price.currency, self.total_net.currency, self.total_gross.currency}
        if len(currencies) != 1:
            raise ValueError(f"line {self.name!r} mixes currencies {sorted(currencies)}")
        return self

    @property
    def total_vat(self) -> Money:
        return self.total_gross - self.total_net

    @classmethod
    def priced(
        cls,
        kind: OrderLineKind,
        name: str,
        quantity: Decimal,
        unit_price: Money,
        vat_rate: Decimal,
        sku: str = "",
    ) -> OrderLine:
        """A line whose totals follow from unit price, quantity and VAT rate."""
        net = round_cents(unit_price.amount * quantity)
        gross = round_cents(net * (1 + vat_rate))
        currency = unit_price.currency
        return cls(
            kind=kind,
            name=name,
            sku=sku,
            quantity=quantity,
            unit_price=unit_price,
            vat_rate=vat_rate,
            total_net=Money(amount=net, currency=currency),
            total_gross=Money(amount=gross, currency=currency),
        )


class Shipment(BaseModel):
    model_config = ConfigDict(frozen=True)

    carrier: str = Field(default="", max_length=255)
    tracking_number: str = Field(default="", max_length=64)
    shipped_at: AwareDatetime | None = None


class Payment(BaseModel):
    model_config = ConfigDict(frozen=True)

    provider: str = Field(max_length=100)
    reference: str = Field(default="", max_length=255)
    amount: Money
    method: str = Field(default="", max_length=255)


class Order(BaseModel):
    """A shop order in canonical form. `status` is the shop's own status id, kept verbatim."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    shop: str = Field(default="default", min_length=1, max_length=64)
    reference: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=64)
    state: OrderState = OrderState.UNKNOWN
    created_at: AwareDatetime
    updated_at: AwareDatetime
    currency: str
    customer: Customer
    billing_address: Address
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    total_net: Money
    total_gross: Money
    payment: Payment | None = None
    shipments: list[Shipment] = []
    note: str = Field(default="", max_length=1000)

    _clean = field_validator("id", "shop", "reference", "status", "note")(clean_text)

    @field_validator("currency")
    @classmethod
    def _currency(cls, currency: str) -> str:
        return Money(amount=Decimal(0), currency=currency).currency

    @model_validator(mode="after")
    def _one_currency(self) -> Order:
        for line in self.lines:
            if line.unit_price.currency != self.currency:
                raise ValueError(f"line {line.name!r} is in {line.unit_price.currency}, order in {self.currency}")
        for total in (self.total_net, self.total_gross):
            if total.currency != self.currency:
                raise ValueError(f"order totals must be in {self.currency}")
        return self

    @property
    def total_vat(self) -> Money:
        return self.total_gross - self.total_net
