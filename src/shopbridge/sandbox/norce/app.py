"""Norce Commerce emulator: identity token, Query 2.0 orders (OData v4) and Connect 4.0 order and import services.

Choices made where the spec (shared/specs/jetshop-norce.md) is uncertain or silent:

* Token (§1): `POST /identity/1.0/connect/token`, form body; a wrong client id or secret is 400
  `{"error": "invalid_client"}` and a scope other than the environment 400 `invalid_scope` (the OAuth
  2 shapes). Tokens are opaque random strings, not JWTs, valid 3600 s by the state's clock. The token
  limit (burst 20, 3 a minute) is a bucket enforced only when `NorceState.enforce_token_limits` is set;
  past it the answer is 429 with `Retry-After: 20`. A missing, unknown or expired bearer is 401.
* Query (§2b): `applicationId` (or `application-id`) header is required (400 without it, 400 for an
  unknown application) but filters nothing. Times print as UTC `...Z` to the second; `$filter`
  literals are unquoted UTC datetimes, integers, `'strings'`, `null`, `true`/`false`, combined with
  `and`/`or`/`not` and parentheses; `in`, functions and arithmetic are not emulated (400). Null
  compares only with `eq`/`ne`; null sorts first. `$top` is clamped to 500; `@odata.nextLink` (an
  absolute URL with `$skip` advanced) is present only when more rows follow; without `$orderby` rows
  come by `Id`. An order with `visible_after` in the future is in no Query answer yet (late arrival
  of a change). `$expand` knows `Items` and `Buyer` (nested `$select` honoured); a standalone Items
  set is 404 as on the observed tenant. `Updated` is null until the order first changes.
* Order fields the spec lists only in part: Buyer carries `FirstName, LastName, CompanyName,
  EmailAddress, Phone, Address1, ZipCode, City, CountryId`; the delivery address is on the order as
  `Delivery*` fields. Prices (`PriceSale`, `LineAmount`, `FreightCost`, `OrderFee`) are ex VAT and
  `VatRate` is a percentage; freight carries the order's highest line VAT rate. `CurrencyId` and
  `CountryId` resolve through `Core/Currencies` and `Core/Countries` (`{"value": [{Id, Code}]}`).
* The order number is also the push's `ClientOrderRef` (the spec's sample shows them equal).
* Connect Order service (§3): 200 with an empty body on success, 400 with a text reason otherwise.
  Acknowledged/ErpConfirmed set status Confirmed and store ErpOrderNo; CreateDeliveryNote moves the
  order to Delivered, CreateInvoice (last invoice) to Invoiced; cancelling after delivery is 400.
  No PSP call is emulated.
* Imports (§4–§7): the JSON array body and the `X-StormConnect-Header` JSON header are required (400
  otherwise); rows are applied at once, only the fields named in `*FieldsThatAreSet`; unknown PartNo,
  price list or warehouse/location rows are ignored with a warning in the job log. A job reports
  Queued (6) on its first `Job/Get` and Succeeded (2) afterwards (Failed (3) when no row applied).
  `FullFile` is accepted and ignored. Jobs live at `/commerce/connect/4.0/Job/Get?id=`. ImportProducts
  creates a SKU only with ManufacturerCode, ManufacturerPartNo and PartNo, names it from the first
  culture and gives it 25 % VAT; otherwise it only updates `Status`.
* Tenant: two channels (101 `demo-dk` in DKK, 102 `demo-se` in SEK at a fixed 1.46 SEK per DKK), one
  price list per channel (`DK-B2C`, `SE-B2C`), warehouse MAIN with locations WEB and STORE. Order
  numbers are unique across channels. The Query API keeps no status history; the state records one
  (`Order.history`) for tests only.
* Push (§2a): `push.push_order` POSTs the OrderRequest with Basic auth to `NorceState.push.url`,
  retrying after `push.retry_delays` (ours: 5 s … 5 min) until the receiver answers 2xx with
  `StatusCode` OK, then gives up and records the order in `escalated`. Items' `UnitPrice` are ex VAT.
  Nothing pushes by itself: `place_order` only stores the order, the caller pushes it.
* Events (§2c): `push.send_event` POSTs the documented order-event payload (plus our `EventType`,
  since the spec does not show how the kind travels) with the webhook's static headers, 5 s timeout,
  retried on any non-2xx after 5 s … 6 h (the newer documented schedule, 16 retries).
* Not emulated: the legacy SOAP service, CreditPayment and POS operations, JobCompletedEvent.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware
from shopbridge.sandbox.norce import documents
from shopbridge.sandbox.norce.query import (
    ODataError,
    page_bounds,
    parse_expand,
    parse_filter,
    parse_orderby,
    parse_select,
    sort_rows,
)
from shopbridge.sandbox.norce.render import FILTER_FIELDS, NAVIGATIONS, filter_view, render_lookup, render_order
from shopbridge.sandbox.norce.state import Job, NorceState

QUERY = "/commerce/query/2.0"
CONNECT = "/commerce/connect/4.0"
ORDER_OPERATIONS = {
    "SendOrderStatus": documents.send_order_status,
    "CreateDeliveryNote": documents.create_delivery_note,
    "CreateInvoice": documents.create_invoice,
    "CancelOrder": documents.cancel_order,
}
IMPORTS = ("ImportProducts", "ImportSkuPriceLists", "ImportOnhands")


def create_app(state: NorceState) -> ASGIApp:
    service = NorceService(state)
    routes = [
        Route("/identity/1.0/connect/token", service.token, methods=["POST"]),
        Route(f"{QUERY}/Orders/Orders", service.orders, methods=["GET"]),
        Route(f"{QUERY}/Core/Currencies", service.currencies, methods=["GET"]),
        Route(f"{QUERY}/Core/Countries", service.countries, methods=["GET"]),
        Route(f"{CONNECT}/Order/{{operation}}", service.order_operation, methods=["POST"]),
        Route(f"{CONNECT}/Product/{{operation}}", service.product_import, methods=["POST"]),
        Route(f"{CONNECT}/Job/Get", service.job, methods=["GET"]),
        Route(f"{CONNECT}/Job/GetLog", service.job_log, methods=["GET"]),
    ]
    return FaultInjectionMiddleware(Starlette(routes=routes), state.faults)


def odata_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "", "message": message}}, status_code=status)


class NorceService:
    """One small handler per endpoint over a `NorceState`."""

    def __init__(self, state: NorceState) -> None:
        self.state = state

    async def token(self, request: Request) -> Response:
        state = self.state
        if not state.token_allowed():
            return JSONResponse({"error": "too_many_requests"}, status_code=429, headers={"Retry-After": "20"})
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if form.get("client_id") != state.client_id or form.get("client_secret") != state.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        if form.get("scope") != state.environment:
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        token = secrets.token_urlsafe(32)
        state.issue_token(token)
        answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": state.environment}
        return JSONResponse(answer)

    def _unauthorized(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and self.state.token_valid(token.strip()):
            return None
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return PlainTextResponse("Unauthorized", status_code=401, headers=headers)

    def _application(self, request: Request) -> Response | None:
        value = request.headers.get("applicationId") or request.headers.get("application-id")
        if value is None:
            return odata_error(400, "The applicationId header is required.")
        if not value.strip().isdigit() or int(value) not in self.state.channels:
            return odata_error(400, f"Unknown application '{value}'.")
        return None

    async def orders(self, request: Request) -> Response:
        refused = self._unauthorized(request) or self._application(request)
        if refused is not None:
            return refused
        try:
            return JSONResponse(self._order_page(request))
        except ODataError as exc:
            return odata_error(400, str(exc))

    def _order_page(self, request: Request) -> dict[str, Any]:
        params = request.query_params
        predicate = parse_filter(params.get("$filter"), FILTER_FIELDS)
        order_keys = parse_orderby(params.get("$orderby"), FILTER_FIELDS) or [("Id", False)]
        expand = parse_expand(params.get("$expand"), NAVIGATIONS)
        select = parse_select(params.get("$select"))
        skip, top = page_bounds(params.get("$top"), params.get("$skip"))
        now = self.state.now()
        visible = [o for o in self.state.orders.values() if o.visible_after is None or o.visible_after <= now]
        views = {order.id: filter_view(order, self.state) for order in visible}
        rows = sort_rows([view for view in views.values() if predicate(view)], order_keys)
        page = rows[skip : skip + top]
        body: dict[str, Any] = {
            "@odata.context": f"{request.base_url}commerce/query/2.0/$metadata#Orders",
            "value": [render_order(self.state.orders[row["Id"]], self.state, expand, select) for row in page],
        }
        if skip + top < len(rows) and top > 0:
            body["@odata.nextLink"] = str(request.url.include_query_params(**{"$skip": skip + top, "$top": top}))
        return body

    async def currencies(self, request: Request) -> Response:
        return self._unauthorized(request) or JSONResponse({"value": render_lookup(self.state.currencies)})

    async def countries(self, request: Request) -> Response:
        return self._unauthorized(request) or JSONResponse({"value": render_lookup(self.state.countries)})

    async def order_operation(self, request: Request) -> Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        operation = ORDER_OPERATIONS.get(request.path_params["operation"])
        if operation is None:
            return PlainTextResponse("Not Found", status_code=404)
        try:
            body = await _json_object(request)
            operation(self.state, body)
        except documents.ConnectError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        return Response(status_code=200)

    async def product_import(self, request: Request) -> Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        kind = request.path_params["operation"]
        if kind not in IMPORTS:
            return PlainTextResponse("Not Found", status_code=404)
        try:
            header = json.loads(request.headers.get("x-stormconnect-header") or "null")
            rows = json.loads(await request.body())
        except ValueError as exc:
            return PlainTextResponse(f"Invalid JSON: {exc}", status_code=400)
        if not isinstance(header, dict) or not isinstance(rows, list):
            reason = "X-StormConnect-Header (an object) and a JSON array body are required"
            return PlainTextResponse(reason, status_code=400)
        job = documents.start_job(self.state, kind, header, rows)
        return JSONResponse(documents.job_response(job))

    def _job_of(self, request: Request) -> Job | Response:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        job_id = request.query_params.get("id", "")
        job = self.state.jobs.get(int(job_id)) if job_id.isdigit() else None
        return job if job is not None else PlainTextResponse(f"Job {job_id!r} not found", status_code=404)

    async def job(self, request: Request) -> Response:
        job = self._job_of(request)
        return job if isinstance(job, Response) else JSONResponse(documents.poll_job(job, self.state))

    async def job_log(self, request: Request) -> Response:
        job = self._job_of(request)
        return job if isinstance(job, Response) else JSONResponse(job.log)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise documents.ConnectError(f"Invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise documents.ConnectError("The body must be a JSON object")
    return body
