"""PrestaShop webservice emulator: the `/api/` of a 1.6/1.7/8.x shop as an ASGI app over a `PrestaShopState`.

Choices made where the PrestaShop webservice spec is uncertain or silent:

* Auth: no key at all → 401 with a plain-text body (the 8.x dispatcher); empty key → code 17; key
  not 32 characters → 18; a well-formed but unknown key → 19 "Authentification key does not exist"
  (the 1.6 core; the spec's table skips 19). Basic auth wins over `ws_key`. The key may use every
  resource and every method the emulator implements; other methods give 405 code 25, methods the
  core forbids (POST/DELETE on stock_availables) 405 code 101, PATCH before 8.0 405 code 23.
* Unknown resource → 400 code 27 with a "did you mean" hint; a non-numeric id is read as PHP's
  `(int)` cast, so `/api/products/abc` is an empty-body 404 like any unknown id.
* Sort direction is case-insensitive (the core upper-cases it); sorting on a computed field is
  refused with code 38. Without `sort`, lists are in ascending id order.
* `!` filters exclude every `|`-separated value (the spec's grammar; 1.6 only took one value).
  Filters compare numerically on numeric columns when both sides are numbers, else as
  case-insensitive text; NULL never matches. BETWEEN is inclusive with its ends sorted.
* Dates are printed in shop local time (`PrestaShopState.timezone`), as a real shop does.
* Shop context: default is shop 1; `id_shop=all` works on every version; an unknown `id_shop` is
  404 code 999; `id_shop_group`/`id_group_shop` without shops is 500 code 999. Lists of orders,
  customers and stock_availables are restricted by their `id_shop` (stock rows with id_shop 0
  match through `id_shop_group`); addresses are not restricted. A single entity outside the
  context is 404 code 131.
* Writes: unknown association names are refused (86) before anything is saved; a PUT that omits
  `date_add` keeps the creation date; customers' `secure_key`/`last_passwd_gen` are writable
  (their setter is null, not false, in the core). Updating a combination's stock row re-sums the
  product-level row at once. Stock is taken when an order is placed, not given back on cancel.
* `total_paid_real` is 0 until the order reaches a paid state, which also records one
  order_payments row (as the recorded 1.6 responses show for orders awaiting payment).
* Mails (`sendemail=1` on POST order_histories and PUT order_carriers) are recorded in
  `PrestaShopState.sent_mails` with the state's template (`in_transit` for tracking).
* Orders are cart-less (`id_cart` 0, so no link); every line uses its product's own tax rate in
  every country; a discount is one order-level cart rule whose tax-incl and tax-excl amounts are
  each rounded from the product totals, so their ratio may miss the VAT rate by an öre.
* Associations print `nodeType` and `api` or `virtualEntity`, never `readOnly` (as recorded 1.6
  responses do). JSON associations with no items print `[]`; JSON `schema=` and `GET /api/` shapes
  are our own.
* Rate limit: PrestaShop publishes none. With `PrestaShopState.rate_limit` set (off by default;
  `sandbox serve prestashop --rate-limit` uses the connector's 10 per second) a token bucket in
  front of `/api/` answers 429 with Retry-After in whole seconds and an XML error body, as a host's
  limiter in front of the shop would. `round_trip_seconds` delays every answer (benchmarks).
* Not emulated: `price[...]` computed prices, images, `depth`, per-key permissions and
  multishop writes; they are ignored like any unknown parameter.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware
from shopbridge.sandbox.limits import RateLimitMiddleware, RoundTripMiddleware
from shopbridge.sandbox.prestashop.documents import create_entities, delete_entities, parse_entities, update_entities
from shopbridge.sandbox.prestashop.query import (
    Filter,
    WebserviceError,
    apply_limit,
    did_you_mean,
    exact_ids,
    parse_display,
    parse_filters,
    parse_languages,
    parse_limit,
    parse_sort,
    php_intval,
    read_filters,
    row_matches,
    sort_rows,
)
from shopbridge.sandbox.prestashop.render import (
    JSON_CONTENT_TYPE,
    XML_CONTENT_TYPE,
    RenderContext,
    render_errors,
    render_index,
    render_list,
    render_schema,
    render_single,
)
from shopbridge.sandbox.prestashop.schema import RESOURCES, ResourceSpec
from shopbridge.sandbox.prestashop.seed import place_order
from shopbridge.sandbox.prestashop.state import PrestaShopState, Row, entity_view

REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. '
         'No password required."')
HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_VALID_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE"}


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    content_type: str = XML_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def create_app(state: PrestaShopState) -> ASGIApp:
    """The emulator's ASGI app, wrapped in the shared fault injection middleware."""
    api = PrestaShopWebservice(state)
    app = Starlette(routes=[
        Route("/api", api.handle, methods=HTTP_METHODS),
        Route("/api/{path:path}", api.handle, methods=HTTP_METHODS),
        Route("/_sandbox/orders", api.create_order, methods=["POST"]),
        Route("/_sandbox/state", api.describe_state, methods=["GET"]),
    ])
    limited = RateLimitMiddleware(app, lambda: state.rate_limit, error_body=rate_limit_body)
    faulty = FaultInjectionMiddleware(limited, state.faults, error_body=fault_error_body)
    return RoundTripMiddleware(faulty, lambda: state.round_trip_seconds)


def rate_limit_body(status: int) -> tuple[bytes, str]:
    """PrestaShop has no limiter of its own; a 429 from a host's limiter in front of it, as XML."""
    return render_errors([WebserviceError(status, 0, "Too many requests")], False), XML_CONTENT_TYPE


def fault_error_body(status: int) -> tuple[bytes, str]:
    """Injected faults answer with a PrestaShop-shaped XML error body."""
    return render_errors([WebserviceError(status, 0, f"Injected fault: HTTP {status}")], False), XML_CONTENT_TYPE


def wants_json(request: Request) -> bool:
    """The first of Io-Format, Output-Format, output_format, io_format that is present decides (§3.2)."""
    for value in (request.headers.get("io-format"), request.headers.get("output-format"),
                  request.query_params.get("output_format"), request.query_params.get("io_format")):
        if value is not None:
            return value == "JSON"
    return False


def request_key(request: Request) -> str | None:
    """The webservice key: Basic auth user name, else the `ws_key` parameter; None when neither is sent."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            return base64.b64decode(header[6:], validate=False).decode("utf-8", "replace").partition(":")[0]
        except (binascii.Error, ValueError):
            return ""
    return request.query_params.get("ws_key")


class PrestaShopWebservice:
    """One small handler per endpoint over the shared state."""

    def __init__(self, state: PrestaShopState) -> None:
        self.state = state

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        method = request.query_params.get("ps_method", request.method).upper()
        as_json = wants_json(request)
        key = request_key(request)
        if key is None:
            body = "" if request.method == "HEAD" else "401 Unauthorized"
            return Response(body, 401, {"WWW-Authenticate": REALM}, media_type="text/plain")
        authenticated = False
        try:
            self._authenticate(key)
            authenticated = True
            result = await self._dispatch(request, method, as_json)
        except WebserviceError as error:
            result = ApiResponse(error.status, render_errors([error], as_json), _content_type(as_json))
            if error.status == 401:
                result.headers["WWW-Authenticate"] = REALM
        return self._finish(request, result, started, authenticated)

    def _authenticate(self, key: str) -> None:
        if key == "":
            raise WebserviceError(401, 17, "Authentication key is empty")
        if len(key) != 32:
            raise WebserviceError(401, 18, "Invalid authentication key format")
        if key != self.state.api_key:
            raise WebserviceError(401, 19, "Authentification key does not exist")
        if not self.state.webservice_enabled:
            raise WebserviceError(503, 22, "The PrestaShop webservice is disabled. Please activate it in the "
                                  "PrestaShop Back Office")

    async def _dispatch(self, request: Request, method: str, as_json: bool) -> ApiResponse:
        segments = request.path_params.get("path", "").split("/")
        resource = segments[0]
        entity_id = segments[1] if len(segments) > 1 and segments[1] != "" else None
        languages = parse_languages(request.query_params.get("language"), self.state.languages)
        ctx = RenderContext(str(request.base_url).rstrip("/") + "/api", tuple(languages), as_json)
        if resource == "":
            return self._index(method, ctx)
        spec = RESOURCES.get(resource)
        if spec is None:
            raise WebserviceError(400, 27, did_you_mean(f'Resource of type "{resource}" does not exists',
                                                        resource, sorted(RESOURCES)))
        self._check_method(spec, method)
        shops = self._shop_context(request.query_params)
        if method in ("GET", "HEAD"):
            return self._read(spec, request.query_params, entity_id, shops, ctx)
        if method == "DELETE":
            delete_entities(self.state, spec, _delete_ids(request.query_params, entity_id))
            return ApiResponse(200, b"", ctx.content_type)
        return await self._write(spec, request, method, ctx)

    def _index(self, method: str, ctx: RenderContext) -> ApiResponse:
        if method not in ("GET", "HEAD"):
            raise WebserviceError(405, 23, f"Method {method} is not valid")
        specs = [RESOURCES[name] for name in sorted(RESOURCES)]
        body = render_index(specs, self.state.shop_name, self.state.supports_patch, ctx)
        return ApiResponse(200, body, ctx.content_type)

    def _check_method(self, spec: ResourceSpec, method: str) -> None:
        if method not in _VALID_METHODS | ({"PATCH"} if self.state.supports_patch else set()):
            raise WebserviceError(405, 23, f"Method {method} is not valid")
        if method in spec.forbidden:
            raise WebserviceError(405, 101, f"Method {method} is not allowed for the resource {spec.name}")
        if method not in spec.methods:
            raise WebserviceError(405, 25, f"Method {method} is not allowed for the resource {spec.name} "
                                  "with this authentication key")

    def _shop_context(self, params: QueryParams) -> list[int]:
        """The shops a request sees (spec §7): id_shop, id_shop_group / id_group_shop, default shop 1."""
        shops = self.state.table("shops")
        group = params.get("id_group_shop") or params.get("id_shop_group")
        if group is not None and group.isdigit():
            members = [shop_id for shop_id, row in sorted(shops.items()) if row["id_shop_group"] == group]
            if not members:
                raise WebserviceError(500, 999, "This group shop doesn't have shops")
            return members
        value = params.get("id_shop")
        if value is None:
            return [min(shops, default=1)]
        if value == "all":
            return sorted(shops)
        if value.isdigit() and int(value) in shops:
            return [int(value)]
        raise WebserviceError(404, 999, "This shop id does not exist")

    def _in_shops(self, spec: ResourceSpec, row: Row, shops: list[int]) -> bool:
        if not spec.shop_scoped:
            return True
        shop_id = php_intval(str(row.get("id_shop", "0")))
        if shop_id in shops:
            return True
        known = self.state.table("shops")
        groups = {known[shop]["id_shop_group"] for shop in shops if shop in known}
        return shop_id == 0 and str(row.get("id_shop_group")) in groups

    def _read(self, spec: ResourceSpec, params: QueryParams, entity_id: str | None, shops: list[int],
              ctx: RenderContext) -> ApiResponse:
        schema = params.get("schema")
        if schema is not None:
            if schema not in ("blank", "synopsis"):
                raise WebserviceError(400, 28, "Please select a schema of type 'synopsis' to get the whole schema "
                                      "informations (which fields are required, which kind of content...) or "
                                      "'blank' to get an empty schema to fill before using POST request")
            return ApiResponse(200, render_schema(spec, schema == "synopsis", ctx), ctx.content_type)
        if entity_id is not None:
            return self._read_one(spec, params, php_intval(entity_id), shops, ctx)
        return self._read_list(spec, params, shops, ctx)

    def _read_one(self, spec: ResourceSpec, params: QueryParams, entity_id: int, shops: list[int],
                  ctx: RenderContext) -> ApiResponse:
        row = self.state.table(spec.name).get(entity_id)
        if row is None:
            return ApiResponse(404, b"", ctx.content_type)  # unknown id: 404 with an empty body
        if not self._in_shops(spec, row, shops):
            raise WebserviceError(404, 131, f"Bad id_shop : You are not allowed to access this {spec.class_name} "
                                  f"({entity_id})")
        display = parse_display(params.get("display"), spec)
        view = entity_view(self.state, spec.name, row)
        return ApiResponse(200, render_single(spec, view, display, ctx), ctx.content_type)

    def _read_list(self, spec: ResourceSpec, params: QueryParams, shops: list[int],
                   ctx: RenderContext) -> ApiResponse:
        date_enabled = params.get("date", "") not in ("", "0")  # PHP's empty()
        filters = parse_filters(read_filters(params.multi_items()), spec, date_enabled)
        display = parse_display(params.get("display"), spec)
        keys = parse_sort(params.get("sort"), spec, date_enabled)
        limit = parse_limit(params.get("limit"))
        rows = [row for row in self._candidates(spec, filters)
                if self._in_shops(spec, row, shops) and row_matches(row, filters, ctx.languages)]
        rows = apply_limit(sort_rows(rows, keys, spec, ctx.languages), limit)
        if display is not None:
            rows = [entity_view(self.state, spec.name, row) for row in rows]
        return ApiResponse(200, render_list(spec, rows, display, ctx), ctx.content_type)

    def _candidates(self, spec: ResourceSpec, filters: list[Filter]) -> Iterable[Row]:
        """The rows a filter by id or by an indexed parent id can match, looked up instead of
        scanned (every filter is still checked on them); else the whole table, in id order."""
        for item in filters:
            values = exact_ids(item.expression)
            name = "id" if item.field is None else item.field.name
            found = self.state.rows_with(spec.name, name, values) if values is not None else None
            if found is not None:
                return found
        return self.state.table(spec.name).values()

    async def _write(self, spec: ResourceSpec, request: Request, method: str, ctx: RenderContext) -> ApiResponse:
        entities = parse_entities(await request.body())
        send_email = request.query_params.get("sendemail") == "1"
        if method == "POST":
            ids, status = create_entities(self.state, spec, entities, send_email), 201
        else:
            ids, status = update_entities(self.state, spec, entities, method == "PATCH", send_email), 200
        views = [entity_view(self.state, spec.name, self.state.table(spec.name)[entity_id]) for entity_id in ids]
        if len(views) == 1:
            return ApiResponse(status, render_single(spec, views[0], None, ctx), ctx.content_type)
        return ApiResponse(status, render_list(spec, views, parse_display("full", spec), ctx), ctx.content_type)

    def _finish(self, request: Request, result: ApiResponse, started: float, authenticated: bool) -> Response:
        headers = {
            "Access-Time": str(int(self.state.clock().timestamp())),
            "X-Powered-By": "PrestaShop Webservice",
            "Execution-Time": f"{time.perf_counter() - started:.3f}",
            **result.headers,
        }
        if authenticated:
            headers["PSWS-Version"] = self.state.version  # only after a successful authentication
        if result.body:
            headers["Content-Sha1"] = hashlib.sha1(result.body, usedforsecurity=False).hexdigest()
        cached = request.headers.get("local-content-sha1")
        if self.state.supports_patch and result.status == 200 and cached and cached == headers.get("Content-Sha1"):
            return Response(b"", 304, headers)
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(result.body))
            return Response(b"", result.status, headers, media_type=result.content_type)
        return Response(result.body, result.status, headers, media_type=result.content_type)

    async def create_order(self, request: Request) -> Response:
        """`POST /_sandbox/orders`: place an order as a customer would (JSON body optional)."""
        raw = await request.body()
        try:
            payload: dict[str, Any] = json.loads(raw) if raw.strip() else {}
            lines = [(str(sku), int(quantity)) for sku, quantity in payload["lines"]] if payload.get("lines") else None
            order_id = place_order(self.state, customer_email=payload.get("customer_email"), lines=lines,
                                   status=int(payload.get("status", 2)),
                                   discount_percent=Decimal(str(payload.get("discount_percent", "0"))))
        except (ValueError, TypeError, KeyError, InvalidOperation) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"id": order_id}, status_code=201)

    async def describe_state(self, request: Request) -> Response:
        """`GET /_sandbox/state`: how many rows each resource holds, and how many mails were sent."""
        counts: dict[str, int] = {name: len(self.state.table(name)) for name in sorted(RESOURCES)}
        counts["sent_mails"] = len(self.state.sent_mails)
        return JSONResponse(counts)


def _content_type(as_json: bool) -> str:
    return JSON_CONTENT_TYPE if as_json else XML_CONTENT_TYPE


def _delete_ids(params: QueryParams, entity_id: str | None) -> list[str]:
    """`?id=[1,2]` for a bulk delete, else the id in the URL (PHP casts a missing one to 0)."""
    bulk = params.get("id")
    if bulk is not None:
        return [item for item in bulk[1:-1].split(",") if item] if bulk.startswith("[") and bulk.endswith("]") else []
    return [str(php_intval(entity_id or ""))]
