"""The demo merchant's catalog and customers, shared by every emulator's seeder so that a shop
emulator and an ERP emulator seeded alike agree on SKUs, prices and people.

Prices are net of VAT in DKK; the shop shows them with 25 % Danish VAT. A few prices are chosen so
that the gross price has öre that do not divide evenly, to exercise rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

CURRENCY = "DKK"
VAT_RATE = Decimal("0.25")


@dataclass(frozen=True)
class CatalogVariant:
    sku: str
    options: dict[str, str]
    price_impact: Decimal = Decimal("0")


@dataclass(frozen=True)
class CatalogProduct:
    sku: str
    name: str
    price: Decimal
    vat_rate: Decimal = VAT_RATE
    stock: int = 100
    variants: tuple[CatalogVariant, ...] = field(default=())

    @property
    def skus(self) -> list[str]:
        return [variant.sku for variant in self.variants] or [self.sku]


@dataclass(frozen=True)
class CatalogCustomer:
    email: str
    first_name: str
    last_name: str
    street: str
    postcode: str
    city: str
    country: str
    company: str = ""
    phone: str = ""


def _tee_variants() -> tuple[CatalogVariant, ...]:
    return tuple(
        CatalogVariant(f"TEE-{size}-{colour[:3].upper()}", {"Size": size, "Colour": colour}, impact)
        for size, impact in (("S", Decimal("0")), ("M", Decimal("0")), ("L", Decimal("8.00")))
        for colour in ("Black", "White")
    )


DEMO_PRODUCTS: tuple[CatalogProduct, ...] = (
    CatalogProduct("MUG-01", "Stoneware mug", Decimal("79.20")),
    CatalogProduct("TEE", "Organic T-shirt", Decimal("159.20"), variants=_tee_variants()),
    CatalogProduct("CAP-01", "Wool cap", Decimal("119.96")),
    CatalogProduct("SOCK-3P", "Socks, 3 pairs", Decimal("63.92")),
    CatalogProduct("BAG-TOTE", "Canvas tote bag", Decimal("99.99")),
    CatalogProduct("POSTER-A2", "Poster A2 – Æblehaven", Decimal("127.00")),
    CatalogProduct("GIFTCARD", "Gift card", Decimal("400.00"), vat_rate=Decimal("0")),
)

DEMO_CUSTOMERS: tuple[CatalogCustomer, ...] = (
    CatalogCustomer("anna.jensen@example.dk", "Anna", "Jensen", "Vestergade 12", "8000", "Aarhus C", "DK"),
    CatalogCustomer("lars.nielsen@example.dk", "Lars", "Nielsen", "Nørrebrogade 40", "2200", "København N", "DK"),
    CatalogCustomer(
        "sofie.hansen@example.dk", "Sofie", "Hansen", "Algade 3", "9000", "Aalborg", "DK", phone="+4512345678"
    ),
    CatalogCustomer(
        "indkob@fabrik.dk", "Mette", "Larsen", "Industrivej 7", "7000", "Fredericia", "DK", company="Fabrik ApS"
    ),
    CatalogCustomer("erik.svensson@example.se", "Erik", "Svensson", "Storgatan 5", "211 42", "Malmö", "SE"),
    CatalogCustomer("ola.nordmann@example.no", "Ola", "Nordmann", "Karl Johans gate 1", "0154", "Oslo", "NO"),
)

SHIPPING_NET = Decimal("39.20")  # 49.00 DKK with VAT


def all_skus() -> list[str]:
    return [sku for product in DEMO_PRODUCTS for sku in product.skus]
