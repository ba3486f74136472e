"""The Norce tenant the emulator serves: channels, catalogue, stock, orders, jobs, tokens, push."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shopbridge.sandbox.faults import FaultPlan

Clock = Callable[[], datetime]
TOKEN_SECONDS = 3600  # spec §1: the JWT is valid one hour
TOKEN_BURST = 20  # spec §1: 3 requests a minute per IP, burst 20
TOKEN_PER_MINUTE = 3
QUERY_PAGE_CAP = 500  # spec §2b: a bigger $top is silently clamped


class Status:
    """Order status ids (spec §3, the contract's enum)."""

    CREATED = 0
    ALLOCATION = 1
    CONFIRMED = 2
    BACK_ORDER = 3
    DELIVERED = 4
    INVOICED = 5
    CANCELLED = 6
    PARTLY_DELIVERED = 8


STATUS_NAMES = {
    "Created": 0, "Allocation": 1, "Confirmed": 2, "BackOrder": 3, "Delivered": 4, "Invoiced": 5,
    "Cancelled": 6, "CreditControl": 7, "PartlyDelivered": 8, "Acknowledged": 9, "ErpConfirmed": 10,
    "ReadyForPickup": 11, "PickedUp": 12, "NotPickedUp": 13, "OnHold": 14, "WaitingForCancel": 15,
    "WaitingForOnHoldRemoved": 16, "CancelError": 17, "AcknowledgementError": 18,
    "ReadyForReservation": 19, "Reserved": 20,
}  # fmt: skip


@dataclass
class Channel:
    """An application (market × shop): integer id for Query, GUID key for Connect and push."""

    id: int
    key: str
    name: str
    currency: str
    culture: str
    price_list: str
    warehouse: str
    location: str


@dataclass
class Sku:
    part_no: str
    name: str
    vat_rate: Decimal  # percent, as Norce prints it (25.0)
    product_code: str
    status: int = 1  # 1 Active
    ean: str = ""


@dataclass
class Variant:
    """A variant of a product cluster; its SKU carries the article number (spec §4)."""

    manufacturer_part_no: str
    part_no: str
    parametrics: dict[str, str] = field(default_factory=dict)  # e.g. {"Size": "M", "Colour": "Black"}


@dataclass
class Product:
    """A product cluster keyed by `Code`, with its variants (spec §4)."""

    code: str
    name: str
    manufacturer_code: str = "DEMO"
    variants: list[Variant] = field(default_factory=list)


@dataclass
class PriceList:
    """A price list linked to channels, with the warehouses it sells from (spec §5)."""

    code: str
    name: str
    currency: str
    warehouses: dict[str, list[str]] = field(default_factory=dict)
    is_primary: bool = True


@dataclass
class SkuPrice:
    part_no: str
    price_list: str
    price_sale: Decimal  # ex VAT (emulator choice, see app docstring)
    currency: str
    is_active: bool = True


@dataclass
class Onhand:
    part_no: str
    warehouse: str
    location: str
    onhand: Decimal
    next_delivery: str | None = None


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    company: str = ""
    phone: str = ""
    line1: str = ""
    zip_code: str = ""
    city: str = ""
    country: str = ""


@dataclass
class OrderItem:
    line_no: int
    part_no: str
    name: str
    quantity: Decimal
    price_sale: Decimal  # unit price ex VAT
    vat_rate: Decimal  # percent
    discount: Decimal = Decimal("0")  # amount off the line, ex VAT

    @property
    def line_amount(self) -> Decimal:
        return self.quantity * self.price_sale - self.discount


@dataclass
class Order:
    id: int
    order_no: str
    application_id: int
    status: int
    created: datetime
    updated: datetime | None
    currency: str
    buyer: Person
    delivery: Person
    items: list[OrderItem]
    freight: Decimal = Decimal("0")  # ex VAT
    order_fee: Decimal = Decimal("0")  # ex VAT
    payment_ref: str = ""
    payment_method: str = ""
    erp_order_no: str = ""
    is_forgotten: bool = False
    history: list[int] = field(default_factory=list)
    # Until then the Query API does not list the order: `Updated` is written by Norce's clock and
    # changes reach the Query store out of order (spec §2b, "safety lap").
    visible_after: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)  # raw overrides, for hostile payloads


@dataclass
class Job:
    id: int
    kind: str
    total: int
    inserts: int = 0
    updates: int = 0
    failed: int = 0
    polls_left: int = 1  # a job finishes after this many polls of Job/Get
    status: int = 6  # 6 Queued until it runs; then 2 Succeeded or 3 Failed
    log: list[dict[str, object]] = field(default_factory=list)
    started: datetime | None = None


@dataclass
class PushConfig:
    """The ERP integration of spec §2a: where orders are POSTed, with which Basic auth."""

    url: str = ""
    username: str = ""
    password: str = ""
    # Spec §2a only says "retries for a while, then escalates to support"; the delays are ours.
    retry_delays: tuple[float, ...] = (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0)


# Spec §2c: 5 s, 10 s, 15 s, 30 s, 1 min, 2, 5, 10, 15, 30 min, then 1 h to 6 h (16 retries, ~22 h).
EVENT_BACKOFF = (5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
                 3600.0, 7200.0, 10800.0, 14400.0, 18000.0, 21600.0)  # fmt: skip


@dataclass
class EventWebhook:
    """An Admin-configured webhook: a URL and static headers (spec §2c)."""

    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    retry_delays: tuple[float, ...] = EVENT_BACKOFF


@dataclass
class PushAttempt:
    order_no: str
    status: int | None
    answer: str
    at: datetime


@dataclass
class NorceState:
    client_id: str
    client_secret: str
    environment: str = "playground"
    channels: dict[int, Channel] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    skus: dict[str, Sku] = field(default_factory=dict)
    price_lists: dict[str, PriceList] = field(default_factory=dict)
    prices: dict[tuple[str, str], SkuPrice] = field(default_factory=dict)
    onhands: dict[tuple[str, str, str], Onhand] = field(default_factory=dict)
    warehouses: dict[str, list[str]] = field(default_factory=dict)  # warehouse code -> location codes
    orders: dict[int, Order] = field(default_factory=dict)
    currencies: dict[int, str] = field(default_factory=lambda: {1: "SEK", 2: "DKK", 3: "NOK", 4: "EUR"})
    countries: dict[int, str] = field(default_factory=lambda: {1: "SE", 2: "DK", 3: "NO", 4: "FI", 5: "DE"})
    jobs: dict[int, Job] = field(default_factory=dict)
    tokens: dict[str, datetime] = field(default_factory=dict)
    enforce_token_limits: bool = False
    token_bucket: float = float(TOKEN_BURST)
    token_bucket_at: datetime | None = None
    push: PushConfig = field(default_factory=PushConfig)
    events: EventWebhook = field(default_factory=EventWebhook)
    push_log: list[PushAttempt] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)  # order numbers given up on ("to support")
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Clock = field(default=lambda: datetime.now(UTC))
    next_order_id: int = 90000
    next_order_no: int = 1048000
    next_job_id: int = 123000

    def now(self) -> datetime:
        """The emulator's clock in UTC, to the second: Norce prints times to the second."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def channel_by_key(self, key: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.key.lower() == key.strip().lower()), None)

    def order_by_no(self, order_no: str) -> Order | None:
        return next((o for o in self.orders.values() if o.order_no == order_no), None)

    def currency_id(self, code: str) -> int:
        return next(key for key, value in self.currencies.items() if value == code)

    def country_id(self, code: str) -> int:
        return next((key for key, value in self.countries.items() if value == code), 0)

    def issue_token(self, token: str) -> None:
        self.tokens[token] = self.now() + timedelta(seconds=TOKEN_SECONDS)

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and self.now() < expiry

    def token_allowed(self) -> bool:
        """Token endpoint limit (spec §1) as a bucket of 20 refilled at 3 a minute; off unless asked."""
        if not self.enforce_token_limits:
            return True
        now = self.now()
        if self.token_bucket_at is not None:
            refill = (now - self.token_bucket_at).total_seconds() / 60 * TOKEN_PER_MINUTE
            self.token_bucket = min(float(TOKEN_BURST), self.token_bucket + refill)
        self.token_bucket_at = now
        if self.token_bucket < 1:
            return False
        self.token_bucket -= 1
        return True
