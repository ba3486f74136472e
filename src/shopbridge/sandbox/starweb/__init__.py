"""Starweb Shop API v2 emulator (after specs/starweb-api.md and Starweb's OpenAPI document 2.11.0).

Choices made where the spec is uncertain or silent:

* Served under `/api/v2`. `POST /token` takes the form-encoded client-credentials grant only; a
  wrong grant type is 400 `unsupported_grant_type`, wrong credentials 400 `invalid_client` (spec
  §2). Tokens are random, live `token_ttl` (default 3600 s, `expire_tokens()` ends them early);
  a missing, unknown or expired token is 401 `invalid_token` with a `WWW-Authenticate` header.
* Rate limit: off unless `state.rate_limited` is set; then 1000 requests per sliding minute per
  client id, `/token` included, answer 429 `{"error": "Too Many Requests"}` without a
  `Retry-After` header (none is documented; spec §3 guesses 429).
* Pages hold `state.page_size` rows (100, spec §4); a page past the end is an empty page with
  `meta.pagination`, not an error. `meta.pagination.links` follows Fractal's paginator, whose
  envelope Starweb's is: `previous`/`next` URLs, or `[]` when there is neither (not in the
  spec). `page` below 1 or not a number is 400. Unknown `include` names and `sortBy` values
  are 400; a dotted include embeds its root only (`items.bundledItems` →
  `items`, bundles are not emulated). `include=primaryVariant` embeds under `variants`.
* Orders: default sort orderId DESC; `ordersCreatedAfter`/`Before` are exclusive, a time without
  an offset is read in the shop's time zone; `filterQuery` searches id, email and address names.
  Times are printed in the shop's zone (`Europe/Stockholm`) with their offset, whole seconds.
  `totalAmount` is net, `totalVat` VAT and `amountToPay` gross, each row rounded to cents.
  `modifiedAt` moves on every write to the order or its children.
* PATCH `/orders/{id}` stores the fields in `orders.PATCHABLE_ORDER_FIELDS` and ignores the rest
  (read-only fields sent on write: spec §11 leaves ignore-or-reject open); an unknown statusId
  is 400. The write-only `onOrderStatusChange…` flags are accepted and have no effect.
* Deleting a standard order status (one with an idCode), or one in use, is 403.
* Webhooks: order events are POSTed in a background thread to every hook of that event with the
  payload of `webhooks.order_payload` (the C# client's model; no signature is documented); a
  status change is also an `order-updated`. Deliveries are recorded in `state.deliveries`.
* An order record's `wireOverrides` dict replaces fields as printed (hostile payloads for tests).
* Not emulated: writes to products, customers, pricelists and most sub-resources, media files,
  categories, attributes, tags, bundles, volume prices; their paths answer 404 or 405.
"""

from shopbridge.sandbox.starweb.app import create_app
from shopbridge.sandbox.starweb.seed import (
    STATUS_AWAITING_PAYMENT,
    STATUS_CANCELED,
    STATUS_COMPLETED,
    STATUS_CREATED,
    STATUS_PICKING,
    add_product,
    place_order,
    seeded_state,
    set_order_status,
)
from shopbridge.sandbox.starweb.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, StarwebState
from shopbridge.sandbox.starweb.webhooks import wait_for_deliveries

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "STATUS_AWAITING_PAYMENT",
    "STATUS_CANCELED",
    "STATUS_COMPLETED",
    "STATUS_CREATED",
    "STATUS_PICKING",
    "StarwebState",
    "add_product",
    "create_app",
    "place_order",
    "seeded_state",
    "set_order_status",
    "wait_for_deliveries",
]
