"""Money: a Decimal amount with an ISO 4217 currency, never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

# A shop amount above this is a bug or an attack, not an order.
MAX_AMOUNT = Decimal("1000000000")
CENT = Decimal("0.01")


def _to_decimal(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("amounts must be given as Decimal or string, not float")
    if isinstance(value, str):
        return value.strip()
    return value


StrictDecimal = Annotated[Decimal, BeforeValidator(_to_decimal)]


def check_vat_rate(rate: Decimal) -> Decimal:
    """`rate` unchanged if it is a VAT fraction from 0 up to but not including 1 (0.25 is 25 %)."""
    if not rate.is_finite() or rate < 0 or rate >= 1:
        raise ValueError(f"vat_rate is a fraction from 0 to below 1, got {rate}")
    return rate


def round_cents(amount: Decimal) -> Decimal:
    """Round to two decimals the way shops and ERPs print prices (half up)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class Money(BaseModel):
    """An amount in one currency."""

    model_config = ConfigDict(frozen=True)

    amount: StrictDecimal
    currency: str

    @field_validator("amount")
    @classmethod
    def _finite_and_sane(cls, amount: Decimal) -> Decimal:
        if not amount.is_finite():
            raise ValueError("amount must be a finite number")
        if abs(amount) >= MAX_AMOUNT:
            raise ValueError(f"amount {amount} is out of range (|amount| < {MAX_AMOUNT})")
        return amount

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, currency: str) -> str:
        code = currency.strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise ValueError(f"currency must be a three-letter ISO 4217 code, got {currency!r}")
        return code

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        return cls(amount=Decimal(amount), currency=currency)

    def rounded(self) -> Money:
        return Money(amount=round_cents(self.amount), currency=self.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(amount=self.amount * Decimal(factor), currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
