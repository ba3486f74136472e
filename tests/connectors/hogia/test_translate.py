"""Unit tests of the pure Hogia conversions: fee articles, VAT codes, öre rounding, hostile input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from shopbridge.connectors.hogia import HogiaSettings
from shopbridge.connectors.hogia.client import dump_json
from shopbridge.connectors.hogia.translate import (
    DESCRIPTION_MAX,
    REFERENCE_MAX,
    VatCode,
    contact_to_hogia,
    document_ref_from_hogia,
    invoice_to_hogia,
    organisation_number,
    vat_codes_from_hogia,
)
from shopbridge.errors import ConfigError, DataError
from shopbridge.model import OrderLineKind, round_cents

from ..document_sink_contract import customer, discount, line, order, product, shipping

CODES = [VatCode("MP1", Decimal("0.25")), VatCode("MP2", Decimal("0.12")), VatCode("MP3", Decimal("0.06")),
         VatCode("MF", Decimal("0"))]  # fmt: skip
SEQUENCE = "5f0c8b0e-4a55-4a43-9d3c-2f4f1f0f9a01"
REFERENCE = "acme/default/1001"


def settings(**overrides: Any) -> HogiaSettings:
    values = {"client_id": "id", "client_secret": "secret", "organization_id": "7d0f5c1e-2b6a-4c3e-9a57-5b8e2f0c4d11"}
    return HogiaSettings(**(values | overrides))


def lines_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["invoiceLine"] for item in body["invoiceLines"]]


def hogia_gross(body: dict[str, Any], codes: list[VatCode] = CODES) -> Decimal:
    """What Hogia computes: per line, net rounded to the öre, VAT on the rounded net rounded again."""
    rates = {code.code: code.rate for code in codes}
    total = Decimal(0)
    for item in lines_of(body):
        net = round_cents(item["quantity"] * item["unitPrice"])
        total += net + round_cents(net * rates[item["vatCode"]])
    return total


def test_shipping_fee_and_discount_go_on_the_fee_articles() -> None:
    fee = line(OrderLineKind.FEE, "Invoice fee", "1", "20.00", "0.25")
    placed = order([product("MUG-01", "2", "79.20"), shipping(), fee, discount("10.00")])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert [item["itemNumber"] for item in lines_of(body)] == ["MUG-01", "fraktavg", "expavg", "rabatt"]
    assert lines_of(body)[3]["unitPrice"] == Decimal("-10.00") and lines_of(body)[3]["quantity"] == 1
    assert body["customerInvoice"]["currency"] == {"code": "DKK"}


def test_fee_article_numbers_follow_the_settings() -> None:
    placed = order([product("MUG-01", "1", "79.20"), shipping(), discount("5.00")])
    custom = settings(freight_article="FRAKT", discount_article="RAB")
    body = invoice_to_hogia(placed, "1001", REFERENCE, custom, CODES, SEQUENCE)
    assert [item["itemNumber"] for item in lines_of(body)] == ["MUG-01", "FRAKT", "RAB"]


def test_mixed_vat_rates_get_their_own_codes_and_the_total_matches() -> None:
    placed = order([
        product("MUG-01", "3", "79.20", "0.25"), product("BOOK", "1", "199.00", "0.06"),
        product("FOOD", "7", "13.39", "0.12"), product("GIFTCARD", "1", "400.00", "0"), shipping("39.20", "0.25"),
    ])  # fmt: skip
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert [item["vatCode"] for item in lines_of(body)] == ["MP1", "MP3", "MP2", "MF", "MP1"]
    assert hogia_gross(body) == placed.total_gross.amount


def test_a_discount_whose_rate_reads_24_98_percent_takes_the_25_percent_code() -> None:
    voucher = line(OrderLineKind.DISCOUNT, "Voucher", "1", "-45.99", "0.2498")
    placed = order([product("MUG-01", "2", "79.20"), voucher])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert lines_of(body)[1]["vatCode"] == "MP1"


def test_a_rate_hogia_has_no_code_for_is_a_data_error() -> None:
    placed = order([product("MUG-01", "1", "79.20", "0.19")])
    with pytest.raises(DataError, match="19 %"):
        invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)


def test_shop_rounding_is_settled_to_the_ore_on_a_vat_free_line() -> None:
    exact = order([product("MUG-01", "2", "79.20"), product("BAG-TOTE", "3", "99.99")])
    placed = order(exact.lines, total_gross=exact.total_gross.amount + Decimal("0.03"))
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    rounding = lines_of(body)[-1]
    assert (rounding["itemNumber"], rounding["unitPrice"], rounding["vatCode"]) == ("oresavr", Decimal("0.03"), "MF")
    assert hogia_gross(body) == placed.total_gross.amount


def test_unit_prices_with_more_than_two_decimals_end_on_the_shops_total() -> None:
    odd = product("MUG-01", "3", "33.3333")
    placed = order([odd], total_gross=Decimal("125.00"))
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert lines_of(body)[0]["unitPrice"] == Decimal("33.33")
    assert hogia_gross(body) == Decimal("125.00")


def test_no_rounding_line_when_the_totals_agree() -> None:
    placed = order([product("MUG-01", "2", "79.20")])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert [item["itemNumber"] for item in lines_of(body)] == ["MUG-01"]


def test_a_difference_beyond_the_tolerance_is_a_data_error() -> None:
    exact = order([product("MUG-01", "2", "79.20")])
    placed = order(exact.lines, total_gross=exact.total_gross.amount + Decimal("1.01"))
    with pytest.raises(DataError, match="exceeds"):
        invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)


def test_rounding_without_a_vat_free_code_is_a_config_error() -> None:
    exact = order([product("MUG-01", "2", "79.20")])
    placed = order(exact.lines, total_gross=exact.total_gross.amount + Decimal("0.02"))
    with pytest.raises(ConfigError, match="0 %"):
        invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES[:1], SEQUENCE)


def test_hostile_names_are_cut_to_hogias_length_and_sent_verbatim() -> None:
    hostile = 'Ölglas "special" <b>&amp;</b>\'; DROP TABLE--\n🍺' + "x" * 3000
    placed = order([product("MUG-01", "1", "79.20", name=hostile[:2500])])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    description = lines_of(body)[0]["description"]
    assert description == hostile[:DESCRIPTION_MAX]
    assert json.loads(dump_json(body))["invoiceLines"][0]["invoiceLine"]["description"] == description


def test_a_reference_is_never_truncated() -> None:
    placed = order([product("MUG-01", "1", "79.20")])
    with pytest.raises(DataError, match="reference"):
        invoice_to_hogia(placed, "1001", "r" * (REFERENCE_MAX + 1), settings(), CODES, SEQUENCE)
    odd = 'acme/1/A(1)*,$[x]$ "ö"'
    body = invoice_to_hogia(placed, "1001", odd, settings(), CODES, SEQUENCE)
    assert body["customerInvoice"]["externalReference"] == odd


def test_absurd_amounts_stay_exact_decimals_on_the_wire() -> None:
    placed = order([product("MUG-01", "999999.999", "999.99", "0")])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    wire = dump_json(body).decode()
    assert '"quantity":999999.999' in wire and '"unitPrice":999.99' in wire
    with pytest.raises(TypeError):
        dump_json({"amount": 0.1})


def test_invoice_date_is_the_shops_local_day() -> None:
    placed = order([product("MUG-01", "1", "79.20")])
    stockholm = timezone(timedelta(hours=2))
    local = placed.model_copy(update={"created_at": datetime(2024, 10, 25, 0, 30, tzinfo=stockholm)})
    assert local.created_at.astimezone(UTC).date().isoformat() == "2024-10-24"
    body = invoice_to_hogia(local, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    assert body["customerInvoice"]["invoiceDate"] == "2024-10-25"


def test_a_company_contact_carries_its_organisation_number() -> None:
    buyer = customer("inkop@foretag.se", country="SE", company="Företag AB", vat_number="SE556677889901")
    body = contact_to_hogia(buyer, order([product("MUG-01", "1", "79.20")], buyer=buyer), SEQUENCE)
    assert body["isOrganization"] is True and body["companyName"] == "Företag AB"
    assert body["identificationNumber"] == "556677-8899"
    assert {"type": "Email", "value": "inkop@foretag.se"} in body["contactChannels"]


def test_a_buyer_without_a_name_is_named_by_email() -> None:
    buyer = customer("no.name@example.se", first_name="", last_name="")
    placed = order([product("MUG-01", "1", "79.20")], buyer=buyer)
    placed = placed.model_copy(update={"billing_address": placed.billing_address.model_copy(
        update={"first_name": "", "last_name": ""})})  # fmt: skip
    body = contact_to_hogia(buyer, placed, SEQUENCE)
    assert (body["givenName"], body["surName"], body["isOrganization"]) == ("no.name@example.se", "", False)


@pytest.mark.parametrize(("numbers", "expected"), [
    (("SE556677889901",), "556677-8899"), (("5566778899",), "556677-8899"), (("556677-8899",), "556677-8899"),
    (("DK12345678", "SE 5566 7788 9901"), "556677-8899"), (("DK12345678",), ""), (("",), ""),
])  # fmt: skip
def test_organisation_number_is_read_from_swedish_numbers_only(numbers: tuple[str, ...], expected: str) -> None:
    assert organisation_number(*numbers) == expected


def test_vat_codes_arrive_as_percentages() -> None:
    items = [{"code": "MP1", "rate": Decimal("25")}, {"code": "MP3", "rate": 6}, {"code": "", "rate": 0}, {"rate": 12}]
    assert vat_codes_from_hogia(items) == [VatCode("MP1", Decimal("0.25")), VatCode("MP3", Decimal("0.06"))]


def test_document_refs_name_drafts_by_id_and_booked_invoices_by_number() -> None:
    header = {"externalReference": REFERENCE, "grossAmount": Decimal("99.00")}
    draft = document_ref_from_hogia({"id": "abc", "customerInvoiceState": "Draft", "invoiceHeader": header})
    booked = document_ref_from_hogia(
        {"id": "abc", "customerInvoiceState": "Booked", "invoiceNumber": 5001, "invoiceHeader": header}
    )
    assert (draft.kind, draft.number, draft.reference) == ("draft_invoice", "abc", REFERENCE)
    assert (booked.kind, booked.number, booked.extra["id"], booked.extra["gross_amount"]) == (
        "booked_invoice", "5001", "abc", "99.00"
    )
    with pytest.raises(DataError):
        document_ref_from_hogia({"invoiceHeader": header})



def test_a_discount_over_two_vat_rates_is_split_into_one_line_per_rate() -> None:
    goods = [product("MUG-01", "1", "100.00", "0.25"), product("FOOD", "1", "100.00", "0.12")]
    # 10 % off everything: 20.00 net with 2.50 + 1.20 = 3.70 VAT, which reads as a blended 18.5 %.
    blended = line(OrderLineKind.DISCOUNT, "10 % off", "1", "-20.00", "0.185")
    placed = order([*goods, blended])
    body = invoice_to_hogia(placed, "1001", REFERENCE, settings(), CODES, SEQUENCE)
    parts = [(item["itemNumber"], item["unitPrice"], item["vatCode"]) for item in lines_of(body)[2:]]
    assert parts == [("rabatt", Decimal("-10.00"), "MP2"), ("rabatt", Decimal("-10.00"), "MP1")]
    assert hogia_gross(body) == placed.total_gross.amount


def test_a_discount_whose_vat_no_mix_of_the_goods_explains_is_a_data_error() -> None:
    goods = [product("MUG-01", "1", "100.00", "0.25"), product("FOOD", "1", "100.00", "0.12")]
    odd = line(OrderLineKind.DISCOUNT, "Odd voucher", "1", "-20.00", "0.15")
    with pytest.raises(DataError, match="Odd voucher"):
        invoice_to_hogia(order([*goods, odd]), "1001", REFERENCE, settings(), CODES, SEQUENCE)
