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
  The real bucket's numbers are unpublished; `sandbox serve economic --rate-limit` uses 20 per
  second, the limit the connector keeps to. `round_trip_seconds` delays every answer (benchmarks).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopbridge.sandbox.economic.errors import ApiError
from shopbridge.sandbox.economic.handlers import (
    Call,
    Handler,
    book_invoice,
    book_invoice_with_number,
    booking_instructions,
    create_customer,
    create_document,
    create_product,
    delete_resource,
    draft_templates,
    error_payload,
    error_response,
    get_resource,
    list_resources,
    replace_customer,
    replace_document,
    replace_product,
    send_order,
    show_links,
    show_root,
    show_sandbox_state,
    show_self,
)
from shopbridge.sandbox.economic.query import QueryError
from shopbridge.sandbox.economic.state import (
    COLLECTIONS,
    Collection,
    EconomicState,
    hide_new_records,
)
from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware
from shopbridge.sandbox.limits import RoundTripMiddleware, retry_after_header

READ_ONLY_DEMO_TOKEN = "demo"
STATE_PATH = "/_sandbox/state"


Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(state: EconomicState, handler: Handler, collection: Collection | None) -> Endpoint:
    """Check tokens and the rate budget, run the handler, and turn refusals into error bodies."""

    async def endpoint(request: Request) -> Response:
        try:
            _authorise(state, request)
            wait = state.rate_limit.take() if state.rate_limit else 0.0
            if wait:
                return error_response(state, ApiError(429, ""), retry_after_header(wait))
            day = state.clock().astimezone(UTC).date().isoformat()
            state.calls_by_day[day] = state.calls_by_day.get(day, 0) + 1
            if request.method != "POST":
                return await handler(Call(request, state, collection))
            before = {path: set(table) for path, table in state.tables.items()}
            response = await handler(Call(request, state, collection))
            hide_new_records(state, before, state.faults.visibility_delay(request.url.path))
            return response
        except QueryError as error:
            return error_response(state, ApiError(400, str(error)))
        except ApiError as error:
            return error_response(state, error)

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
        return error_response(state, ApiError(status, ""), getattr(exc, "headers", None))

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.economic = state

    def fault_body(status: int) -> tuple[bytes, str]:
        return json.dumps(error_payload(state, status)).encode(), "application/json"

    faulty = FaultInjectionMiddleware(app, state.faults, error_body=fault_body)
    return RoundTripMiddleware(faulty, lambda: state.round_trip_seconds)
