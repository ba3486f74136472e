"""The Starweb REST API v2 as an ASGI app: token, envelopes, one small named handler per endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopbridge.sandbox.faults import ASGIApp, FaultInjectionMiddleware
from shopbridge.sandbox.starweb import orders
from shopbridge.sandbox.starweb.query import (
    CUSTOMER_INCLUDES,
    PRODUCT_INCLUDES,
    VARIANT_INCLUDES,
    ApiError,
    changed_since,
    includes,
    page_number,
    paginate,
    sorted_by_id,
)
from shopbridge.sandbox.starweb.render import (
    render_customer,
    render_plain,
    render_price,
    render_product,
    render_variant,
)
from shopbridge.sandbox.starweb.respond import (
    Handler,
    data,
    error_bytes,
    error_response,
    found,
    json_body,
    listing,
    path_id,
)
from shopbridge.sandbox.starweb.state import Record, StarwebState

BASE = "/api/v2"


def create_app(state: StarwebState) -> ASGIApp:
    """The emulator's ASGI app under `/api/v2`, wrapped in the shared fault injection middleware."""
    routes = [Route(BASE + "/token", _open(state, token), methods=["POST"])]
    routes += [Route(BASE + path, _guarded(state, handler), methods=[method]) for method, path, handler in ROUTES]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})  # type: ignore[dict-item]
    return FaultInjectionMiddleware(app, state.faults, fault_error_body)


def fault_error_body(status: int) -> tuple[bytes, str]:
    code = "Too Many Requests" if status == 429 else "server_error"
    return error_bytes(code, f"injected fault {status}"), "application/json"


async def _http_error(request: Request, exc: HTTPException) -> Response:
    """Unknown paths and methods answer in Starweb's error shape, not Starlette's plain text."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return error_response(exc.status_code, code, str(exc.detail))


def _open(state: StarwebState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(state, request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.description)

    return endpoint


def _guarded(state: StarwebState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Bearer token first (401 invalid_token), then the rate budget when enforced (429)."""

    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        client = state.token_client(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            return error_response(401, "invalid_token", "The access token provided is invalid or has expired",
                                  {"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        if state.rate_limited and not state.rate_budget.spend(client):
            return error_response(429, "Too Many Requests", "At most 1000 requests per minute are allowed")
        try:
            return await handler(state, request)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.description)

    return endpoint


# --- token (spec §2) ---


async def token(state: StarwebState, request: Request) -> Response:
    # Form-encoded (spec §2); parsed here because Starlette's form parser needs an extra package.
    form = {key: values[0] for key, values in parse_qs((await request.body()).decode("latin-1")).items()}
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if form.get("grant_type") != "client_credentials":
        raise ApiError(400, "unsupported_grant_type", "Only the client_credentials grant type is allowed")
    if state.rate_limited and not state.rate_budget.spend(client_id):
        raise ApiError(429, "Too Many Requests", "At most 1000 requests per minute are allowed")
    if client_id != state.client_id or secret != state.client_secret:
        raise ApiError(400, "invalid_client", "The client credentials are invalid")
    access_token, expires_in = state.issue_token()
    return JSONResponse({"access_token": access_token, "expires_in": expires_in, "scope": ""})


# --- shop settings and reference data ---


async def get_shop(state: StarwebState, request: Request) -> Response:
    return data(render_plain(state, state.shop))


async def list_currencies(state: StarwebState, request: Request) -> Response:
    return listing(state, state.currencies)


async def get_currency(state: StarwebState, request: Request) -> Response:
    code = str(request.path_params["currencyCode"]).upper()
    return data(render_plain(state, found(state.currencies, code, "currency")))


async def list_vat_rates(state: StarwebState, request: Request) -> Response:
    return listing(state, state.vat_rates)


async def get_vat_rate(state: StarwebState, request: Request) -> Response:
    code = str(request.path_params["countryCode"]).upper()
    return data(render_plain(state, found(state.vat_rates, code, "VAT rate for country")))


async def list_payment_methods(state: StarwebState, request: Request) -> Response:
    return listing(state, state.payment_methods)


async def get_payment_method(state: StarwebState, request: Request) -> Response:
    method = found(state.payment_methods, path_id(request, "paymentMethodId"), "payment method")
    return data(render_plain(state, method))


async def list_shipping_methods(state: StarwebState, request: Request) -> Response:
    return listing(state, state.shipping_methods)


async def get_shipping_method(state: StarwebState, request: Request) -> Response:
    method = found(state.shipping_methods, path_id(request, "shippingMethodId"), "shipping method")
    return data(render_plain(state, method))


async def list_pricelists(state: StarwebState, request: Request) -> Response:
    return listing(state, state.pricelists)


async def get_pricelist(state: StarwebState, request: Request) -> Response:
    return data(render_plain(state, found(state.pricelists, path_id(request, "pricelistId"), "pricelist")))


async def list_stock_locations(state: StarwebState, request: Request) -> Response:
    return listing(state, state.stock_locations)


async def get_stock_location(state: StarwebState, request: Request) -> Response:
    location = found(state.stock_locations, path_id(request, "stockLocationId"), "stock location")
    return data(render_plain(state, location))


# --- customers ---


async def list_customers(state: StarwebState, request: Request) -> Response:
    params = request.query_params
    embed = includes(params, CUSTOMER_INCLUDES)
    rows = changed_since(sorted_by_id(list(state.customers.values()), params, "customerId", "DESC"), params,
                         state.timezone)  # fmt: skip
    chunk, meta = paginate(rows, page_number(params), state.page_size, str(request.url))
    return data([render_customer(state, row, embed) for row in chunk], meta=meta)


async def get_customer(state: StarwebState, request: Request) -> Response:
    customer = found(state.customers, path_id(request, "customerId"), "customer")
    return data(render_customer(state, customer, includes(request.query_params, CUSTOMER_INCLUDES)))


async def list_customer_addresses(state: StarwebState, request: Request) -> Response:
    customer = found(state.customers, path_id(request, "customerId"), "customer")
    return data(render_plain(state, customer["addresses"]))


async def get_customer_address(state: StarwebState, request: Request) -> Response:
    customer = found(state.customers, path_id(request, "customerId"), "customer")
    return data(found(customer["addresses"], request.path_params["addressType"], "address"))


# --- products, variants, prices, stock ---


async def list_products(state: StarwebState, request: Request) -> Response:
    params = request.query_params
    embed = includes(params, PRODUCT_INCLUDES)
    rows = changed_since(sorted_by_id(list(state.products.values()), params, "productId", "ASC"), params,
                         state.timezone)  # fmt: skip
    sku = params.get("filterSku")
    if sku:
        rows = [row for row in rows if any(variant["sku"] == sku for variant in row["variants"])]
    if params.get("filterVisible", "").lower() in ("1", "true"):
        rows = [row for row in rows if row["visibility"] == "visible"]
    chunk, meta = paginate(rows, page_number(params), state.page_size, str(request.url))
    return data([render_product(state, row, embed) for row in chunk], meta=meta)


async def get_product(state: StarwebState, request: Request) -> Response:
    product = found(state.products, path_id(request, "productId"), "product")
    return data(render_product(state, product, includes(request.query_params, PRODUCT_INCLUDES)))


def _variant(state: StarwebState, request: Request) -> Record:
    product = found(state.products, path_id(request, "productId"), "product")
    variants = {variant["variantId"]: variant for variant in product["variants"]}
    return found(variants, path_id(request, "variantId"), "variant")


async def list_variants(state: StarwebState, request: Request) -> Response:
    product = found(state.products, path_id(request, "productId"), "product")
    embed = includes(request.query_params, VARIANT_INCLUDES)
    chunk, meta = paginate(product["variants"], page_number(request.query_params), state.page_size,
                           str(request.url))
    return data([render_variant(variant, embed) for variant in chunk], meta=meta)


async def get_variant(state: StarwebState, request: Request) -> Response:
    return data(render_variant(_variant(state, request), includes(request.query_params, VARIANT_INCLUDES)))


async def list_prices(state: StarwebState, request: Request) -> Response:
    return data([render_price(price) for price in _variant(state, request)["prices"].values()])


async def get_price(state: StarwebState, request: Request) -> Response:
    prices = _variant(state, request)["prices"]
    return data(render_price(found(prices, path_id(request, "pricelistId"), "price in pricelist")))


async def list_stocks(state: StarwebState, request: Request) -> Response:
    return data([render_price(stock) for stock in _variant(state, request)["stocks"].values()])


async def get_stock(state: StarwebState, request: Request) -> Response:
    stocks = _variant(state, request)["stocks"]
    return data(render_price(found(stocks, path_id(request, "stockLocationId"), "stock at location")))


async def put_stock(state: StarwebState, request: Request) -> Response:
    """Update or create the variant's stock at one location (spec §6 VariantStock: PUT is an upsert)."""
    variant = _variant(state, request)
    location = path_id(request, "stockLocationId")
    found(state.stock_locations, location, "stock location")
    body = await json_body(request)
    status, quantity = body.get("stockStatusId"), body.get("stockQuantity")
    if not isinstance(status, int) or isinstance(quantity, bool) or not isinstance(quantity, int | float):
        raise ApiError(400, "validation_failed", "stockStatusId (integer) and stockQuantity (number) are required")
    if abs(quantity) > 100_000_000:
        raise ApiError(400, "validation_failed", "stockQuantity must lie within ±100000000")
    variant["stocks"][location] = {"stockLocationId": location, "stockStatusId": status, "stockQuantity": quantity}
    return data(render_price(variant["stocks"][location]))


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/shop", get_shop),
    ("GET", "/currencies", list_currencies),
    ("GET", "/currencies/{currencyCode}", get_currency),
    ("GET", "/vat-rates", list_vat_rates),
    ("GET", "/vat-rates/{countryCode}", get_vat_rate),
    ("GET", "/payment-methods", list_payment_methods),
    ("GET", "/payment-methods/{paymentMethodId}", get_payment_method),
    ("GET", "/shipping-methods", list_shipping_methods),
    ("GET", "/shipping-methods/{shippingMethodId}", get_shipping_method),
    ("GET", "/pricelists", list_pricelists),
    ("GET", "/pricelists/{pricelistId}", get_pricelist),
    ("GET", "/stock-locations", list_stock_locations),
    ("GET", "/stock-locations/{stockLocationId}", get_stock_location),
    ("GET", "/customers", list_customers),
    ("GET", "/customers/{customerId}", get_customer),
    ("GET", "/customers/{customerId}/addresses", list_customer_addresses),
    ("GET", "/customers/{customerId}/addresses/{addressType}", get_customer_address),
    ("GET", "/products", list_products),
    ("GET", "/products/{productId}", get_product),
    ("GET", "/products/{productId}/variants", list_variants),
    ("GET", "/products/{productId}/variants/{variantId}", get_variant),
    ("GET", "/products/{productId}/variants/{variantId}/prices", list_prices),
    ("GET", "/products/{productId}/variants/{variantId}/prices/{pricelistId}", get_price),
    ("GET", "/products/{productId}/variants/{variantId}/stocks", list_stocks),
    ("GET", "/products/{productId}/variants/{variantId}/stocks/{stockLocationId}", get_stock),
    ("PUT", "/products/{productId}/variants/{variantId}/stocks/{stockLocationId}", put_stock),
    *orders.ROUTES,
]
