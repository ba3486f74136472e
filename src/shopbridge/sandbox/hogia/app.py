"""Emulator of the Hogia cloud REST API (api.hogia.se + id.hogia.se) as an ASGI app — SPECULATIVE.

Spec hogia-smart.md says no public API of Hogia Smart itself is documented; this emulates the
related Hogia platform API that public clients use. Choices made where the spec is uncertain:

- Whether this API serves Hogia Smart companies at all is unknown; the emulator assumes it does.
- Token: `POST /connect/token` is served on the same origin as the API (really id.hogia.se).
  Form body `grant_type=client_credentials`, `client_id`, `client_secret` (or HTTP Basic);
  wrong client → 400 `{"error": "invalid_client"}` (RFC 6749 §5.2), other grant → 400
  `unsupported_grant_type`. Tokens are opaque and expire after `state.token_lifetime` seconds
  (default 3600); an unknown or expired token answers 401 with `WWW-Authenticate: Bearer`.
- URLs are `/{organizationGuid}/{resource}`; another organisation's GUID answers 403.
  `api-version` is required (query, or header as one client sends it); only the four versions
  seen in clients are accepted (400 otherwise) and all behave alike.
- Errors are ASP.NET ProblemDetails (`application/problem+json`, RFC 7807) with `traceId` and,
  for validation, `errors` by field path. The bare-string and array error bodies that clients
  also report are not produced (the connector still reads them).
- Lists answer `{"page", "pageSize", "totalItems", "items"}` (envelope invented); `page` is
  1-based, `pageSize` defaults to and may not exceed 500. Filters are query parameters that
  compare case-insensitively: contacts by `number`, `email`, `identificationNumber`; articles
  by `number`; customer invoices by `externalReference`, `customerNumber`, `state`.
- Articles and stock: no endpoint is known. `GET /{org}/articles` lists articles with
  `number, name, unitPrice, vatCode, salesAccountNumber, stockBalance, sendToWebshop`
  (invented); `GET /{org}/stockbalances` lists `{articleNumber, stockBalance}`.
- Contacts: `POST /{org}/contacts` creates (201); `number` is assigned from 1001 when absent;
  e-mail and phone live in `contactChannels` (`{type: Email|Phone|Mobile|Web, value}`).
- Customer invoices: the v2 body of spec §2. `customerInvoice.externalReference` (≤ 100
  characters) is invented as the field an integration's own id goes into. A line with an
  `itemNumber` must name an existing article; `unitPrice` and `vatCode` default to the
  article's. Line net = quantity × unit price rounded half up to the öre, line VAT = net × rate
  rounded likewise; header totals are the sums. A create answers 201 with the whole invoice as
  a draft; `POST /{org}/customerinvoices/{id}/book` (invented) books it with the next invoice
  number from 5001 and is idempotent; `DELETE` removes drafts only (booked → 409).
- `sequenceId` must be a GUID; one already used answers 409 (the spec only guesses it is an
  idempotency key); removing a draft frees its sequenceId.
- Payments (`POST .../payments`): booked invoices only, positive amounts up to what is left.
- VAT codes are the invented Swedish set MP1 25 %, MP2 12 %, MP3 6 %, MF 0 %, listed with
  `rate` in percent; an invoice line may name any code, else it takes its article's.
- Fee articles `fraktavg`, `expavg`, `rabatt` (spec §1) are seeded with 25 % VAT and price 0,
  plus `oresavr` (0 %) for öre rounding, which the spec does not mention. Prices may be negative
  (discounts); a quantity must not be 0. `invoiceDate` defaults to today, the due date to 30
  days later; the currency defaults to SEK and is taken as given (no exchange rates).
- Contacts' `identificationNumber` is stored and compared as sent (the connector sends
  `NNNNNN-NNNN`). Nothing can be deleted but draft invoices.
- Fault kinds beyond the shared middleware: `state.listing_lag` keeps a new invoice out of
  filtered lists for that long (it is readable by id at once), as an index that lags would.
- Rate limit: off unless `state.rate_limit` holds a bucket; then 429 with a whole-second
  `Retry-After`. Numbers are not published, so none are imitated.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware
from shopbridge.sandbox.hogia import documents, query
from shopbridge.sandbox.hogia.render import ApiProblem, json_response, page, problem_payload, problem_response
from shopbridge.sandbox.hogia.state import HogiaState, Json

TOKEN_PATH = "/connect/token"


@dataclass
class Call:
    request: Request
    state: HogiaState

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    async def body(self) -> Json:
        try:
            body = json.loads(await self.request.body() or b"null", parse_float=Decimal)
        except ValueError:
            raise ApiProblem(400, "The request body is not valid JSON.", {"$": ["Invalid JSON."]}) from None
        if not isinstance(body, dict):
            raise ApiProblem(400, "The request body must be a JSON object.", {"$": ["Expected an object."]})
        return body

    def listed(self, items: list[Json], filters: dict[str, Callable[[Json], str]]) -> Response:
        params = self.request.query_params
        number, size = query.paging(params)
        return json_response(page(query.select(items, params, filters), number, size))


Handler = Callable[[Call], Awaitable[Response]]


def _trace_id(state: HogiaState) -> str:
    state.calls += 1
    return f"00-{state.calls:032x}-{state.seed:016x}-00"


# --- auth ---------------------------------------------------------------------------------------


def _client_credentials(form: dict[str, str], authorization: str) -> tuple[str, str]:
    if authorization.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except ValueError:
            return "", ""
        return user, password
    return form.get("client_id", ""), form.get("client_secret", "")


async def issue_token(request: Request) -> Response:
    """OAuth2 client credentials (spec §2, Auth)."""
    state: HogiaState = request.app.state.hogia
    # Parsed by hand: Starlette's form parser needs python-multipart for a four-field body.
    form = {key: values[-1] for key, values in parse_qs((await request.body()).decode(errors="replace")).items()}
    if form.get("grant_type") != "client_credentials":
        return json_response({"error": "unsupported_grant_type"}, 400)
    client_id, secret = _client_credentials(form, request.headers.get("authorization", ""))
    known = hmac.compare_digest(client_id.encode(), state.client_id.encode())
    if not (known and hmac.compare_digest(secret.encode(), state.client_secret.encode())):
        return json_response({"error": "invalid_client"}, 400)
    token = {"access_token": state.issue_token(), "expires_in": state.token_lifetime, "token_type": "Bearer"}
    return json_response(token | {"scope": "api"}, headers={"Cache-Control": "no-store"})


def _authorise(state: HogiaState, request: Request) -> None:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not state.token_valid(token):
        challenge = 'Bearer error="invalid_token"' if token else "Bearer"
        raise ApiProblem(401, headers={"WWW-Authenticate": challenge})
    if request.path_params.get("org", "").lower() != state.organization_id.lower():
        raise ApiProblem(403, "The client has no access to this organization.")
    query.check_api_version(request.query_params, request.headers)
    wait = state.rate_limit.take() if state.rate_limit else 0.0
    if wait:
        raise ApiProblem(429, "Rate limit exceeded.", headers={"Retry-After": str(max(1, math.ceil(wait)))})


# --- handlers -----------------------------------------------------------------------------------


async def list_vat_codes(call: Call) -> Response:
    return call.listed(list(call.state.vat_codes.values()), {"code": lambda item: str(item["code"])})


async def list_articles(call: Call) -> Response:
    return call.listed(list(call.state.articles.values()), query.ARTICLE_FILTERS)


async def list_stock_balances(call: Call) -> Response:
    balances = [{"articleNumber": item["number"], "stockBalance": item["stockBalance"]}
                for item in call.state.articles.values()]  # fmt: skip
    return call.listed(balances, {"articleNumber": lambda item: str(item["articleNumber"])})


async def list_contacts(call: Call) -> Response:
    return call.listed(list(call.state.contacts.values()), query.CONTACT_FILTERS)


async def show_contact(call: Call) -> Response:
    return json_response(_found(call.state.contacts, call.param("id"), "contact"))


async def create_contact(call: Call) -> Response:
    return json_response(documents.new_contact(call.state, await call.body()), 201)


async def list_invoices(call: Call) -> Response:
    listed = [item for item in call.state.invoices.values() if call.state.listed_yet(item)]
    return call.listed(listed, query.INVOICE_FILTERS)


async def show_invoice(call: Call) -> Response:
    return json_response(_found(call.state.invoices, call.param("id"), "customer invoice"))


async def create_invoice(call: Call) -> Response:
    return json_response(documents.new_invoice(call.state, await call.body()), 201)


async def book_invoice(call: Call) -> Response:
    invoice = _found(call.state.invoices, call.param("id"), "customer invoice")
    return json_response(documents.book(call.state, invoice))


async def delete_invoice(call: Call) -> Response:
    invoice = _found(call.state.invoices, call.param("id"), "customer invoice")
    if invoice["customerInvoiceState"] != "Draft":
        raise ApiProblem(409, "Only draft invoices can be deleted.")
    del call.state.invoices[invoice["id"]]
    call.state.sequence_ids.pop(invoice["sequenceId"], None)
    return Response(status_code=204)


async def list_payments(call: Call) -> Response:
    invoice = _found(call.state.invoices, call.param("id"), "customer invoice")
    return json_response(invoice["payments"])


async def create_payment(call: Call) -> Response:
    invoice = _found(call.state.invoices, call.param("id"), "customer invoice")
    return json_response(documents.pay(call.state, invoice, await call.body()), 201)


def _found(table: dict[str, Json], key: str, what: str) -> Json:
    item = table.get(key.lower())
    if item is None:
        raise ApiProblem(404, f"No {what} with id {key}.")
    return item


# --- wiring -------------------------------------------------------------------------------------


def _endpoint(state: HogiaState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            _authorise(state, request)
            return await handler(Call(request, state))
        except ApiProblem as problem:
            return problem_response(problem, _trace_id(state))

    endpoint.__name__ = handler.__name__
    return endpoint


_ROUTES: tuple[tuple[str, Handler, str], ...] = (
    ("/{org}/vatcodes", list_vat_codes, "GET"),
    ("/{org}/articles", list_articles, "GET"),
    ("/{org}/stockbalances", list_stock_balances, "GET"),
    ("/{org}/contacts", list_contacts, "GET"),
    ("/{org}/contacts", create_contact, "POST"),
    ("/{org}/contacts/{id}", show_contact, "GET"),
    ("/{org}/customerinvoices", list_invoices, "GET"),
    ("/{org}/customerinvoices", create_invoice, "POST"),
    ("/{org}/customerinvoices/{id}", show_invoice, "GET"),
    ("/{org}/customerinvoices/{id}", delete_invoice, "DELETE"),
    ("/{org}/customerinvoices/{id}/book", book_invoice, "POST"),
    ("/{org}/customerinvoices/{id}/payments", list_payments, "GET"),
    ("/{org}/customerinvoices/{id}/payments", create_payment, "POST"),
)


def create_app(state: HogiaState) -> ASGIApp:
    """The emulator, wrapped in the shared fault injection with ProblemDetails error bodies."""
    routes = [Route(TOKEN_PATH, issue_token, methods=["POST"])]
    routes += [Route(path, _endpoint(state, handler), methods=[method]) for path, handler, method in _ROUTES]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return problem_response(ApiProblem(status), _trace_id(state))

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.hogia = state

    def fault_body(status: int) -> tuple[bytes, str]:
        payload: dict[str, Any] = problem_payload(status, _trace_id(state))
        return json.dumps(payload).encode(), "application/problem+json"

    return FaultInjectionMiddleware(app, state.faults, error_body=fault_body)
