from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from shopbridge.model import Money, round_cents


def test_money_keeps_decimal_exactly() -> None:
    assert Money.of("0.1", "DKK") + Money.of("0.2", "DKK") == Money.of("0.3", "DKK")


def test_money_refuses_float_amounts() -> None:
    with pytest.raises(ValidationError, match="not float"):
        Money(amount=0.1, currency="DKK")  # type: ignore[arg-type]


@pytest.mark.parametrize("currency", ["DK", "DKKK", "12A", "", "ÆØÅ"])
def test_money_refuses_non_iso_currency(currency: str) -> None:
    with pytest.raises(ValidationError, match="ISO 4217"):
        Money.of("1", currency)


def test_money_normalises_currency_case() -> None:
    assert Money.of("1", "dkk").currency == "DKK"


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "1e12", "-1000000000"])
def test_money_refuses_absurd_amounts(amount: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=Decimal(amount), currency="DKK")


def test_money_refuses_mixing_currencies() -> None:
    with pytest.raises(ValueError, match="cannot combine DKK with SEK"):
        Money.of("1", "DKK") + Money.of("1", "SEK")


@pytest.mark.parametrize(
    ("raw", "expected"), [("0.005", "0.01"), ("0.004", "0.00"), ("-0.005", "-0.01"), ("2.675", "2.68")]
)
def test_round_cents_rounds_half_up(raw: str, expected: str) -> None:
    assert round_cents(Decimal(raw)) == Decimal(expected)
