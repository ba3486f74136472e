"""Emulator of the e-conomic REST API (restapi.e-conomic.com) as an ASGI app, after spec economic-api.md.

Choices made where the spec is uncertain or silent:

- Tokens: `X-AppSecretToken` and `X-AgreementGrantToken` must equal the state's pair, else 401.
  Both headers `demo` give read-only access to the same data (GET only; writes answer 403).
  The legacy `appId`/`accessId` headers, `?demo=true` and the demo link in 401 bodies are not
  emulated. `GET /` lists resources without the stable/experimental grouping; `GET /self`
  describes a made-up agreement.
- Paging parameter names are matched case-insensitively (`skipPages` works); a `pagesize` over
  1000 or a malformed number answers 400. `skippages` past the end gives an empty page.
- Filters: `$and:` binds tighter than `$or:`; an unescaped `(` inside a value or `$` not
  followed by an escapable character is a syntax error (400). `$null:` with an empty value or
  `true` matches absent properties, `$null:false` present ones. An absent property compares as
  false against `true`/`false` (booleans are omitted when false); otherwise absent properties
  satisfy only `$ne:` and `$nin:`. `$in:`/`$nin:` values and the property must be numeric.
  Sortable properties are the filterable ones; absent values sort first.
- Responses omit false booleans and absent values rather than sending `null`; amounts are
  rounded half up to 2 decimals. Validation errors whose code the spec does not name carry
  no `errorCode`. A reference may be given by number or by `self` link.
- Documents: a product line without `unitNetPrice` takes the product's `salesPrice`;
  `description` is required when a product is set (§6) and `quantity` must be at least 0.01.
  VAT applies only for recipient vat zone 1, at the rate of the line's product group (25 % for
  groups 1 and 3, 0 % for 2 and 4, 25 % for lines without a product). `exchangeRate` defaults
  to a fixed table (DKK 100). POSTing a document ignores any number in the body; POST
  `/orders/sent` moves the draft named by `orderNumber`. Upgrading orders to invoices,
  attachments, PDFs and the collection-wide DELETE on `/invoices/drafts` are not emulated.
- Booking answers 201 with a `Location`; a taken `bookWithNumber` or one that differs from the
  number in `PUT /invoices/booked/:n` answers 400 with an annotated error. Numbers come from one
  running counter per series (customers, orders, draft invoices, booked invoices) that skips
  numbers already in use. `sendBy` is accepted and ignored; `dueDate` is never computed.
- Customers and products referenced by a document cannot be deleted (400).
- Rate limiting: an optional token bucket on the state (off by default) answers 429 with a
  whole-second `Retry-After`; every authorised call is also counted per UTC day (fair use).
"""

from __future__ import annotations

import copy
import hmac
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopbridge.sandbox import catalog
from shopbridge.sandbox.economic_documents import (
    DOES_NOT_EXIST,
    VALIDATION_HINT,
    VALIDATION_MESSAGE,
    AnnotatedErrors,
    ApiError,
    book_draft,
    error_body,
    parse_booking,
    parse_json_body,
    validate_customer,
    validate_document,
    validate_product,
)
from shopbridge.sandbox.economic_query import (
    REFERENCE_KEYS,
    Json,
    QueryError,
    check_filterable,
    decode_id,
    encode_id,
    matches,
    page_envelope,
    parse_filter,
    parse_paging,
    parse_sort,
    sort_resources,
    to_wire,
    with_links,
)
from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware, FaultPlan

DEMO_APP_SECRET_TOKEN = "shopbridge-demo-app-secret"
DEMO_AGREEMENT_GRANT_TOKEN = "shopbridge-demo-agreement-grant"
READ_ONLY_DEMO_TOKEN = "demo"
STATE_PATH = "/_sandbox/state"
DOCUMENT_COLLECTIONS = ("orders/drafts", "orders/sent", "orders/archived", "invoices/drafts", "invoices/booked")
READ_ONLY_DOCUMENT_FIELDS = frozenset(("orderNumber", "draftInvoiceNumber", "bookedInvoiceNumber", "self", "templates",
                                       "pdf", "soap", "attachment", "sent"))
FIRST_NUMBERS = {"customers": 1, "orders": 1, "invoices/drafts": 1, "invoices/booked": 1}


@dataclass(frozen=True)
class Collection:
    path: str
    key: str
    filterable: frozenset[str]
    series: str | None = None  # the running number series that assigns `key`


def _collection(path: str, key: str, *filterable: str, series: str | None = None) -> Collection:
    return Collection(path, key, frozenset((key, *filterable)), series)


_DOCUMENT_FILTERABLE = ("date", "dueDate", "currency", "customer.customerNumber", "references.other",
                        "delivery.*", "recipient.*", "netAmount", "grossAmount", "vatAmount")  # fmt: skip
COLLECTIONS = {c.path: c for c in (
    _collection("customers", "customerNumber", "address", "balance", "barred", "city", "corporateIdentificationNumber",
                "country", "creditLimit", "currency", "ean", "email", "lastUpdated", "name", "publicEntryNumber",
                "telephoneAndFaxNumber", "vatNumber", "website", "zip", series="customers"),
    _collection("products", "productNumber", "barCode", "barred", "costPrice", "description", "inventory.*",
                "lastUpdated", "name", "productGroup.productGroupNumber", "recommendedPrice", "salesPrice",
                "unit.unitNumber"),
    _collection("product-groups", "productGroupNumber", "name"),
    _collection("vat-zones", "vatZoneNumber", "name"),
    _collection("units", "unitNumber", "name"),
    _collection("layouts", "layoutNumber", "name"),
    _collection("payment-terms", "paymentTermsNumber", "name", "paymentTermsType", "daysOfCredit"),
    _collection("customer-groups", "customerGroupNumber", "name"),
    _collection("currencies", "code", "name", "isoNumber"),
    _collection("orders/drafts", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("orders/sent", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("orders/archived", "orderNumber", *_DOCUMENT_FILTERABLE, series="orders"),
    _collection("invoices/drafts", "draftInvoiceNumber", *_DOCUMENT_FILTERABLE, series="invoices/drafts"),
    _collection("invoices/booked", "bookedInvoiceNumber", "orderNumber", "remainder", *_DOCUMENT_FILTERABLE,
                series="invoices/booked"),
)}  # fmt: skip


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TokenBucket:
    """Requests spend one token each; tokens refill continuously up to `capacity`."""

    capacity: float
    refill_per_second: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    def take(self) -> float:
        """Spend a token: 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.refill_per_second


@dataclass
class EconomicState:
    app_secret_token: str = DEMO_APP_SECRET_TOKEN
    agreement_grant_token: str = DEMO_AGREEMENT_GRANT_TOKEN
    base_url: str = ""
    faults: FaultPlan = field(default_factory=FaultPlan)
    clock: Callable[[], datetime] = _utc_now
    rate_limit: TokenBucket | None = None
    demo_read_access: bool = True
    seed: int = 0
    tables: dict[str, dict[Any, Json]] = field(default_factory=lambda: {path: {} for path in COLLECTIONS})
    next_numbers: dict[str, int] = field(default_factory=lambda: dict(FIRST_NUMBERS))
    calls_by_day: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def log_id(self) -> str:
        return f"{self._random.getrandbits(64):016x}-CPH"

    def timestamp(self) -> str:
        return self.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def next_number(self, series: str) -> int:
        """The series' next number that no resource holds yet."""
        taken = [self.tables[c.path] for c in COLLECTIONS.values() if c.series == series]
        number = self.next_numbers[series]
        while any(number in table for table in taken):
            number += 1
        self.next_numbers[series] = number + 1
        return number


def seeded_state(seed: int = 0) -> EconomicState:
    """Vat zones, units, layouts, terms, groups, currencies and the demo catalog; no customers."""
    state = EconomicState(seed=seed)
    for path, rows in _SEED_ROWS.items():
        key = COLLECTIONS[path].key
        state.tables[path] = {row[key]: row for row in copy.deepcopy(rows)}
    now = state.timestamp()
    for product in _catalog_products():
        state.tables["products"][product["productNumber"]] = {**product, "lastUpdated": now}
    return state


def _catalog_products() -> list[Json]:
    """One product per SKU of the demo catalog, then the order-level helper products."""
    products = []
    for item in catalog.DEMO_PRODUCTS:
        group = 2 if item.vat_rate == 0 else 1
        for variant in item.variants or (None,):
            name = f"{item.name} ({', '.join(variant.options.values())})" if variant else item.name
            price = item.price + (variant.price_impact if variant else Decimal("0"))
            products.append(_product(variant.sku if variant else item.sku, name, price, group))
    return products + [_product(*extra) for extra in _EXTRA_PRODUCTS]


def _product(number: str, name: str, price: Decimal, group: int) -> Json:
    return {"productNumber": number, "name": name, "salesPrice": price,
            "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1, "name": "stk."}}  # fmt: skip


_EXTRA_PRODUCTS = (
    ("SHIPPING", "Fragt", catalog.SHIPPING_NET, 1), ("FEE", "Gebyr", Decimal("0.00"), 1),
    ("DISCOUNT", "Rabat", Decimal("0.00"), 1), ("ROUNDING", "Øreafrunding", Decimal("0.00"), 2),
)  # fmt: skip
_SEED_ROWS: dict[str, list[Json]] = {
    "vat-zones": [
        {"vatZoneNumber": n, "name": name, "enabledForCustomer": True, "enabledForSupplier": n != 4}
        for n, name in ((1, "Domestic"), (2, "EU"), (3, "Abroad"), (4, "Domestic exempt VAT"))
    ],
    "units": [{"unitNumber": n, "name": name} for n, name in enumerate(("stk.", "timer", "pcs.", "meter", "hours"), 1)],
    "layouts": [{"layoutNumber": n, "name": name} for n, name in
                ((19, "Standard"), (20, "Standard engelsk"), (21, "Standard med logo"))],
    "payment-terms": [
        {"paymentTermsNumber": n, "name": name, "paymentTermsType": kind, "daysOfCredit": days}
        for n, name, kind, days in (
            (1, "Netto 8 dage", "net", 8), (2, "Netto 14 dage", "net", 14), (3, "Netto 30 dage", "net", 30),
            (4, "Løbende måned + 30 dage", "invoiceMonth", 30), (5, "Kontant", "paidInCash", 0),
            (6, "Kreditkort", "creditcard", 0),
        )
    ],
    "product-groups": [{"productGroupNumber": n, "name": name} for n, name in
                       enumerate(("Varer m/moms", "Varer u/moms", "Ydelser m/moms", "Ydelser u/moms"), 1)],
    "customer-groups": [{"customerGroupNumber": n, "name": name, "layout": {"layoutNumber": 19}} for n, name in
                        ((1, "Danske"), (2, "Udenlandske"))],
    "currencies": [{"code": code, "isoNumber": iso, "name": name} for code, iso, name in (
        ("DKK", "208", "Danske kroner"), ("EUR", "978", "Euro"), ("SEK", "752", "Svenske kroner"),
        ("NOK", "578", "Norske kroner"), ("USD", "840", "US-dollar"))],
}  # fmt: skip


def add_customer(state: EconomicState, **fields: Any) -> int:
    defaults: Json = {"name": "Test customer", "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
                      "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1}}  # fmt: skip
    return int(_store_customer(state, {**defaults, **fields})["customerNumber"])


def add_product(state: EconomicState, product_number: str, name: str, sales_price: Decimal, group: int = 1) -> str:
    body = {"productNumber": product_number, "name": name, "salesPrice": sales_price,
            "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1}}  # fmt: skip
    return str(_store_product(state, body)["productNumber"])


def find_document(state: EconomicState, collection: str, number: int) -> Json | None:
    """A stored document (amounts as Decimal) in one of DOCUMENT_COLLECTIONS, or None."""
    return state.tables[collection].get(number)


def get_document(state: EconomicState, collection: str, number: int) -> Json:
    document = find_document(state, collection, number)
    if document is None:
        raise KeyError(f"no document {number} in {collection}")
    return document


def documents_by_reference(state: EconomicState) -> dict[str, list[tuple[str, int]]]:
    """Every `references.other` value with the (collection, number) of each document carrying it."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in DOCUMENT_COLLECTIONS:
        for number, document in sorted(state.tables[path].items()):
            other = document.get("references", {}).get("other")
            if other is not None:
                found[other].append((path, number))
    return dict(found)


def _store_customer(state: EconomicState, body: Json, number: int | None = None) -> Json:
    customer = validate_customer(body, state.tables)
    table = state.tables["customers"]
    if number is None:
        number = customer.get("customerNumber") or state.next_number("customers")
        if number in table:
            raise ApiError(400, "A customer with this customerNumber already exists.", VALIDATION_HINT)
    balance = table.get(number, {}).get("balance", Decimal("0.00"))
    table[number] = {**customer, "customerNumber": number, "balance": balance, "lastUpdated": state.timestamp()}
    return table[number]


def _store_product(state: EconomicState, body: Json, number: str | None = None) -> Json:
    product = validate_product({**body, "productNumber": number} if number else body, state.tables)
    table = state.tables["products"]
    if number is None and product["productNumber"] in table:
        raise ApiError(400, "A product with this productNumber already exists.", VALIDATION_HINT)
    table[product["productNumber"]] = {**product, "lastUpdated": state.timestamp()}
    return table[product["productNumber"]]


def _in_use(state: EconomicState, reference: str, number: Any) -> bool:
    key = REFERENCE_KEYS[reference][0]
    for path in DOCUMENT_COLLECTIONS:
        for document in state.tables[path].values():
            refs = [document.get(reference)] + [line.get(reference) for line in document.get("lines", [])]
            if any(isinstance(ref, dict) and ref.get(key) == number for ref in refs):
                return True
    return False


# --- wire --------------------------------------------------------------------------------------


class EconomicJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(to_wire(content), ensure_ascii=False).encode("utf-8")


def error_payload(state: EconomicState, status: int, message: str = "", hint: str = "",
                  errors: Json | None = None) -> Json:  # fmt: skip
    log_time = state.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return error_body(status, message, hint, errors, log_id=state.log_id(), log_time=log_time)


def _error_response(state: EconomicState, error: ApiError, headers: dict[str, str] | None = None) -> Response:
    payload = error_payload(state, error.status, error.message, error.hint, error.errors)
    return EconomicJSONResponse(payload, status_code=error.status, headers=headers)


@dataclass
class Call:
    """One request to one endpoint, with what the handlers need to answer it."""

    request: Request
    state: EconomicState
    spec: Collection | None

    @property
    def collection(self) -> Collection:
        assert self.spec is not None, "this endpoint has no collection"
        return self.spec

    @property
    def base(self) -> str:
        return (self.state.base_url or str(self.request.base_url)).rstrip("/")

    @property
    def table(self) -> dict[Any, Json]:
        return self.state.tables[self.collection.path]

    def url(self, key: Any) -> str:
        return f"{self.base}/{self.collection.path}/{encode_id(key)}"

    def key(self) -> Any:
        segment = decode_id(self.request.path_params["number"])
        if self.collection.key in ("productNumber", "code"):
            return segment.upper() if self.collection.key == "code" else segment
        if not segment.isdigit():
            raise ApiError(404, "")
        return int(segment)

    def existing(self) -> Json:
        resource = self.table.get(self.key())
        if resource is None:
            raise ApiError(404, "")
        return resource

    def render(self, resource: Json) -> Json:
        body = {key: with_links(value, self.base) for key, value in resource.items()}
        body["self"] = self.url(resource[self.collection.key])
        if self.collection.path == "invoices/drafts":
            templates = f"{body['self']}/templates"
            body["templates"] = {"bookingInstructions": f"{templates}/booking-instructions", "self": templates}
        return body

    def store(self, number: int, document: Json) -> Json:
        """Keep a document under its number; numbers and links in the body are read-only."""
        writable = {key: value for key, value in document.items() if key not in READ_ONLY_DOCUMENT_FIELDS}
        self.table[number] = {self.collection.key: number, **writable}
        return self.table[number]

    def created(self, resource: Json) -> Response:
        body = self.render(resource)
        return EconomicJSONResponse(body, status_code=201, headers={"Location": body["self"]})

    async def body(self) -> Json:
        content_type = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(415, "")
        return parse_json_body(await self.request.body())


# --- handlers ----------------------------------------------------------------------------------

Handler = Callable[[Call], Awaitable[Response]]


async def list_resources(call: Call) -> Response:
    params = {name.lower(): value for name, value in call.request.query_params.items()}
    collection, everything = call.collection, list(call.table.values())
    carried: dict[str, str] = {}
    selected = everything
    if "filter" in params:
        node = parse_filter(params["filter"])
        check_filterable(node, collection.filterable)
        carried["filter"], selected = params["filter"], [r for r in everything if matches(node, r)]
    if "sort" in params:
        carried["sort"] = params["sort"]
    ordered = sort_resources(selected, parse_sort(params.get("sort", collection.key), collection.filterable))
    envelope = page_envelope(ordered, page=parse_paging(params), results_without_filter=len(everything),
                             collection_url=f"{call.base}/{collection.path}", carried=carried)  # fmt: skip
    envelope["collection"] = [call.render(resource) for resource in envelope["collection"]]
    return EconomicJSONResponse(envelope)


async def get_resource(call: Call) -> Response:
    return EconomicJSONResponse(call.render(call.existing()))


async def delete_resource(call: Call) -> Response:
    key, reference = call.key(), {"customers": "customer", "products": "product"}.get(call.collection.path)
    call.existing()
    if reference and _in_use(call.state, reference, key):
        raise ApiError(400, f"The {reference} is used by a document and cannot be deleted.")
    del call.table[key]
    if call.collection.path != "invoices/drafts":
        return Response(status_code=204)
    deleted = {call.collection.key: key, "self": call.url(key)}
    return EconomicJSONResponse({"message": "Deleted invoice.", "deletedCount": 1, "deletedItems": [deleted]})


async def create_customer(call: Call) -> Response:
    return call.created(_store_customer(call.state, await call.body()))


async def replace_customer(call: Call) -> Response:
    number = call.existing()["customerNumber"]
    return EconomicJSONResponse(call.render(_store_customer(call.state, await call.body(), number)))


async def create_product(call: Call) -> Response:
    return call.created(_store_product(call.state, await call.body()))


async def replace_product(call: Call) -> Response:
    number = call.existing()["productNumber"]
    return EconomicJSONResponse(call.render(_store_product(call.state, await call.body(), number)))


async def create_document(call: Call) -> Response:
    document = validate_document(await call.body(), call.state.tables)
    return call.created(call.store(call.state.next_number(call.collection.series or ""), document))


async def replace_document(call: Call) -> Response:
    number = call.existing()[call.collection.key]
    document = validate_document(await call.body(), call.state.tables)
    return EconomicJSONResponse(call.render(call.store(number, document)))


async def send_order(call: Call) -> Response:
    """POST the full order to `/orders/sent`: the draft with that `orderNumber` becomes sent."""
    body = await call.body()
    drafts = call.state.tables["orders/drafts"]
    number = body.get("orderNumber")
    if isinstance(number, bool) or not isinstance(number, int) or number not in drafts:
        errors = AnnotatedErrors()
        errors.add(("orderNumber",), "orderNumber does not exist among draft orders.", DOES_NOT_EXIST, number)
        raise ApiError(400, VALIDATION_MESSAGE, VALIDATION_HINT, errors.as_json())
    document = validate_document(body, call.state.tables)
    del drafts[number]
    return call.created(call.store(number, document))


async def book_invoice(call: Call) -> Response:
    return _book(call, await call.body(), None)


async def book_invoice_with_number(call: Call) -> Response:
    return _book(call, await call.body(), call.key())


def _book(call: Call, body: Json, number_in_url: int | None) -> Response:
    drafts, booked = call.state.tables["invoices/drafts"], call.table
    draft_number, wanted = parse_booking(body, drafts, booked, number_in_url)
    number = wanted if wanted is not None else call.state.next_number("invoices/booked")
    booked[number] = book_draft(drafts.pop(draft_number), number, call.state.tables)
    return call.created(booked[number])


async def draft_templates(call: Call) -> Response:
    return EconomicJSONResponse(call.render(call.existing())["templates"])


async def booking_instructions(call: Call) -> Response:
    link = call.url(call.existing()["draftInvoiceNumber"])
    draft = {"draftInvoiceNumber": call.key(), "self": link}
    return EconomicJSONResponse({"draftInvoice": draft, "self": f"{link}/templates/booking-instructions"})


async def show_root(call: Call) -> Response:
    paths = ("self", *COLLECTIONS, "orders", "invoices")
    resources = [{"name": path, "href": f"{call.base}/{path}"} for path in paths]
    return EconomicJSONResponse({"resources": resources, "self": f"{call.base}/"})


async def show_self(call: Call) -> Response:
    return EconomicJSONResponse({
        "agreementNumber": 424242,
        "agreementType": {"agreementTypeNumber": 1, "name": "Professional"},
        "company": {"name": "ShopBridge Demo ApS", "vatNumber": "12345678", "addressLine1": "Demovej 1",
                    "zip": "8000", "city": "Aarhus C", "country": "Danmark"},
        "application": {"appNumber": 1, "name": "ShopBridge",
                        "requiredRoles": [{"name": "SuperUser", "roleNumber": 1}]},
        "modules": [],
        "userName": "ShopBridge demo",
        "self": f"{call.base}/self",
    })  # fmt: skip


async def show_links(call: Call) -> Response:
    """`GET /orders` and `GET /invoices`: links to the state collections."""
    prefix = call.request.url.path.strip("/")
    links = {path.split("/")[1]: f"{call.base}/{path}" for path in COLLECTIONS if path.startswith(f"{prefix}/")}
    return EconomicJSONResponse({**links, "self": f"{call.base}/{prefix}"})


async def show_sandbox_state(request: Request) -> Response:
    state: EconomicState = request.app.state.economic
    duplicates = {ref: docs for ref, docs in documents_by_reference(state).items() if len(docs) > 1}
    counts = {path: len(table) for path, table in state.tables.items()}
    body = {"counts": counts, "duplicateReferences": duplicates, "callsByDay": state.calls_by_day}
    return EconomicJSONResponse(body)


# --- app ---------------------------------------------------------------------------------------


Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(state: EconomicState, handler: Handler, collection: Collection | None) -> Endpoint:
    """Check tokens and the rate budget, run the handler, and turn refusals into error bodies."""

    async def endpoint(request: Request) -> Response:
        try:
            _authorise(state, request)
            wait = state.rate_limit.take() if state.rate_limit else 0.0
            if wait:
                headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                return _error_response(state, ApiError(429, ""), headers)
            day = state.clock().astimezone(UTC).date().isoformat()
            state.calls_by_day[day] = state.calls_by_day.get(day, 0) + 1
            return await handler(Call(request, state, collection))
        except QueryError as error:
            return _error_response(state, ApiError(400, str(error)))
        except ApiError as error:
            return _error_response(state, error)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


def _authorise(state: EconomicState, request: Request) -> None:
    secret = request.headers.get("x-appsecrettoken", "")
    grant = request.headers.get("x-agreementgranttoken", "")
    if state.demo_read_access and secret == grant == READ_ONLY_DEMO_TOKEN:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(403, "Demo access is read-only.")
        return
    secret_ok = hmac.compare_digest(secret.encode(), state.app_secret_token.encode())
    if not (secret_ok and hmac.compare_digest(grant.encode(), state.agreement_grant_token.encode())):
        raise ApiError(401, "")


_ROUTES: tuple[tuple[str, Handler, str | None, tuple[str, ...]], ...] = (
    ("/", show_root, None, ("GET",)),
    ("/self", show_self, None, ("GET",)),
    ("/orders", show_links, None, ("GET",)),
    ("/invoices", show_links, None, ("GET",)),
    *((f"/{path}", list_resources, path, ("GET",)) for path in COLLECTIONS),
    *((f"/{path}/{{number}}", get_resource, path, ("GET",)) for path in COLLECTIONS),
    *((f"/{path}/{{number}}", delete_resource, path, ("DELETE",))
      for path in ("customers", "products", "orders/drafts", "invoices/drafts")),
    ("/customers", create_customer, "customers", ("POST",)),
    ("/customers/{number}", replace_customer, "customers", ("PUT",)),
    ("/products", create_product, "products", ("POST",)),
    ("/products/{number}", replace_product, "products", ("PUT",)),
    ("/orders/drafts", create_document, "orders/drafts", ("POST",)),
    ("/orders/drafts/{number}", replace_document, "orders/drafts", ("PUT",)),
    ("/orders/sent", send_order, "orders/sent", ("POST",)),
    ("/invoices/drafts", create_document, "invoices/drafts", ("POST",)),
    ("/invoices/drafts/{number}", replace_document, "invoices/drafts", ("PUT",)),
    ("/invoices/drafts/{number}/templates", draft_templates, "invoices/drafts", ("GET",)),
    ("/invoices/drafts/{number}/templates/booking-instructions", booking_instructions, "invoices/drafts", ("GET",)),
    ("/invoices/booked", book_invoice, "invoices/booked", ("POST",)),
    ("/invoices/booked/{number}", book_invoice_with_number, "invoices/booked", ("PUT",)),
)  # fmt: skip


def create_app(state: EconomicState) -> ASGIApp:
    """The emulator, wrapped in fault injection whose error bodies look like e-conomic's."""
    routes = [
        Route(path, _endpoint(state, handler, COLLECTIONS[name] if name else None), methods=list(methods))
        for path, handler, name, methods in _ROUTES
    ]
    routes.append(Route(STATE_PATH, show_sandbox_state, methods=["GET"]))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _error_response(state, ApiError(status, ""), getattr(exc, "headers", None))

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.economic = state

    def fault_body(status: int) -> tuple[bytes, str]:
        return json.dumps(error_payload(state, status)).encode(), "application/json"

    return FaultInjectionMiddleware(app, state.faults, error_body=fault_body)
