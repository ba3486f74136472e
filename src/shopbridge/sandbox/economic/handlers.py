"""The e-conomic emulator's request handlers, one per endpoint, over a `Call` that knows its collection."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shopbridge.sandbox.economic.documents import book_draft, parse_booking, validate_document
from shopbridge.sandbox.economic.errors import (
    DOES_NOT_EXIST,
    VALIDATION_HINT,
    VALIDATION_MESSAGE,
    AnnotatedErrors,
    ApiError,
    error_body,
    parse_json_body,
)
from shopbridge.sandbox.economic.query import (
    Json,
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
from shopbridge.sandbox.economic.state import (
    COLLECTIONS,
    Collection,
    EconomicState,
    documents_by_reference,
    in_use,
    store_customer,
    store_product,
    visible_in_filtered_lists,
)

READ_ONLY_DOCUMENT_FIELDS = frozenset(("orderNumber", "draftInvoiceNumber", "bookedInvoiceNumber", "self", "templates",
                                       "pdf", "soap", "attachment", "sent"))


class EconomicJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(to_wire(content), ensure_ascii=False).encode("utf-8")


def error_payload(state: EconomicState, status: int, message: str = "", hint: str = "",
                  errors: Json | None = None) -> Json:  # fmt: skip
    log_time = state.clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return error_body(status, message, hint, errors, log_id=state.log_id(), log_time=log_time)


def error_response(state: EconomicState, error: ApiError, headers: dict[str, str] | None = None) -> Response:
    """The e-conomic error body for `error`, with its status and any extra headers."""
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
        # A new record may reach filtered lists only later, as under load in e-conomic (fault plan).
        shown = [r for key, r in call.table.items() if visible_in_filtered_lists(call.state, collection.path, key)]
        carried["filter"], selected = params["filter"], [r for r in shown if matches(node, r)]
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
    if reference and in_use(call.state, reference, key):
        raise ApiError(400, f"The {reference} is used by a document and cannot be deleted.")
    del call.table[key]
    if call.collection.path != "invoices/drafts":
        return Response(status_code=204)
    deleted = {call.collection.key: key, "self": call.url(key)}
    return EconomicJSONResponse({"message": "Deleted invoice.", "deletedCount": 1, "deletedItems": [deleted]})


async def create_customer(call: Call) -> Response:
    return call.created(store_customer(call.state, await call.body()))


async def replace_customer(call: Call) -> Response:
    number = call.existing()["customerNumber"]
    return EconomicJSONResponse(call.render(store_customer(call.state, await call.body(), number)))


async def create_product(call: Call) -> Response:
    return call.created(store_product(call.state, await call.body()))


async def replace_product(call: Call) -> Response:
    number = call.existing()["productNumber"]
    return EconomicJSONResponse(call.render(store_product(call.state, await call.body(), number)))


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
