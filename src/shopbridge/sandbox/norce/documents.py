"""Connect 4.0 writes: the synchronous Order service (spec §3) and the async Import jobs (spec §4–§7)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from shopbridge.sandbox.norce.seed import set_order_status
from shopbridge.sandbox.norce.state import (
    STATUS_NAMES,
    Job,
    NorceState,
    Onhand,
    Order,
    Product,
    Sku,
    SkuPrice,
    Status,
    Variant,
)

Json = dict[str, Any]


class ConnectError(Exception):
    """A refused Connect call: 400 with a plain-text reason (the void operations have no body, spec §3)."""


# --- Order service (synchronous) ---


def find_order(state: NorceState, body: Json) -> Order:
    """ClientOrderRef or ErpOrderNo identifies the order (spec §3)."""
    ref, erp = body.get("ClientOrderRef"), body.get("ErpOrderNo")
    order = state.order_by_no(str(ref)) if ref not in (None, "") else None
    if order is None and erp:
        order = next((o for o in state.orders.values() if o.erp_order_no == str(erp)), None)
    if order is None:
        raise ConnectError(f"Order not found (ClientOrderRef {ref!r}, ErpOrderNo {erp!r})")
    return order


def send_order_status(state: NorceState, body: Json) -> None:
    order = find_order(state, body)
    name = str(body.get("OrderStatus", ""))
    if name not in STATUS_NAMES:
        raise ConnectError(f"Unknown OrderStatus {name!r}")
    if body.get("ErpOrderNo"):
        order.erp_order_no = str(body["ErpOrderNo"])
    # An acknowledgement stores the ERP number and confirms the order (spec §3).
    status = Status.CONFIRMED if name in ("Acknowledged", "ErpConfirmed") else STATUS_NAMES[name]
    _move(state, order, status)


def create_delivery_note(state: NorceState, body: Json) -> None:
    if not body.get("NoteNo") or not body.get("DeliveryDate"):
        raise ConnectError("NoteNo and DeliveryDate are required")
    order = find_order(state, {"ClientOrderRef": body.get("OrderNo"), "ErpOrderNo": body.get("OrderNo")})
    _move(state, order, Status.DELIVERED)


def create_invoice(state: NorceState, body: Json) -> None:
    if not body.get("InvoiceNo") and not body.get("ClientOrderRef"):
        raise ConnectError("InvoiceNo or ClientOrderRef is required")
    order = find_order(state, body)
    if body.get("IsLastInvoiceForOrder") is not False:
        _move(state, order, Status.INVOICED)


def cancel_order(state: NorceState, body: Json) -> None:
    _move(state, find_order(state, body), Status.CANCELLED)


def _move(state: NorceState, order: Order, status: int) -> None:
    try:
        set_order_status(state, order.order_no, status)
    except ValueError as exc:
        raise ConnectError(str(exc)) from None


# --- Import jobs (asynchronous, spec §7) ---


def start_job(state: NorceState, kind: str, header: Json, rows: list[Any]) -> Job:
    """Validate and apply an import, returning its queued job; results show once it is polled."""
    state.next_job_id += 1
    job = Job(state.next_job_id, kind, total=len(rows))
    listed = header.get(_FIELDS_KEY[kind])
    fields = {str(name) for name in listed} if isinstance(listed, list) else set()
    for number, row in enumerate(rows, 1):
        problem = _checked_row(state, kind, row, fields)
        if problem is None:
            job.updates += 1
        else:
            job.failed += 1
            job.log.append({"SeverityId": 2, "Message": problem, "ImportedRow": number})
    state.jobs[job.id] = job
    return job


def _checked_row(state: NorceState, kind: str, row: object, fields: set[str]) -> str | None:
    """A malformed row fails alone, with a message in the job log, as a validation failure would."""
    if not isinstance(row, dict):
        return "not an object"
    try:
        return _import_row(state, kind, row, fields)
    except (TypeError, ValueError, AttributeError, ConnectError) as exc:
        return f"malformed row: {exc}"


def _import_row(state: NorceState, kind: str, row: Json, fields: set[str]) -> str | None:
    if kind == "ImportOnhands":
        return _import_onhand(state, row, fields)
    if kind == "ImportSkuPriceLists":
        return _import_price(state, row, fields)
    return _import_product(state, row)


def _import_onhand(state: NorceState, row: Json, fields: set[str]) -> str | None:
    part_no, warehouse, location = (str(row.get(k) or "") for k in ("PartNo", "WarehouseCode", "LocationCode"))
    if not (part_no and warehouse and location):
        return "PartNo, WarehouseCode and LocationCode are required"
    if part_no not in state.skus:
        return f"Unknown PartNo {part_no}; row ignored"
    if location not in state.warehouses.get(warehouse, []):
        return f"Unknown warehouse/location {warehouse}/{location}"
    current = state.onhands.setdefault((part_no, warehouse, location), Onhand(part_no, warehouse, location, Decimal(0)))
    if "OnhandValue" in fields and row.get("OnhandValue") is not None:
        current.onhand = _decimal(row["OnhandValue"])
    if "NextDeliveryDate" in fields:
        current.next_delivery = row.get("NextDeliveryDate")
    return None


def _import_price(state: NorceState, row: Json, fields: set[str]) -> str | None:
    part_no, code = str(row.get("PartNo") or ""), str(row.get("PriceListCode") or "")
    if part_no not in state.skus or code not in state.price_lists:
        return f"Unknown PartNo {part_no} or price list {code}; row ignored"
    currency = state.price_lists[code].currency
    price = state.prices.setdefault((part_no, code), SkuPrice(part_no, code, Decimal(0), currency))
    # Null or 0 does not overwrite (spec §5).
    if "PriceSale" in fields and row.get("PriceSale") not in (None, 0):
        price.price_sale = _decimal(row["PriceSale"])
    if "IsActive" in fields and row.get("IsActive") is not None:
        price.is_active = bool(row["IsActive"])
    return None


def _import_product(state: NorceState, row: Json) -> str | None:
    """Upsert a cluster; creating a SKU needs ManufacturerCode, ManufacturerPartNo and PartNo (spec §4)."""
    code = str(row.get("Code") or "")
    cluster = state.products.setdefault(code, Product(code, _culture_name(row), str(row.get("ManufacturerCode") or "")))
    for variant in row.get("Variants") or []:
        for sku in (variant or {}).get("Skus") or []:
            part_no = str((sku or {}).get("PartNo") or "")
            known = state.skus.get(part_no)
            if known is None:
                if not (part_no and row.get("ManufacturerCode") and variant.get("ManufacturerPartNo")):
                    return "creating a SKU needs ManufacturerCode, ManufacturerPartNo and PartNo"
                known = state.skus[part_no] = Sku(part_no, cluster.name, Decimal(25), code)
                cluster.variants.append(Variant(str(variant["ManufacturerPartNo"]), part_no))
            if sku.get("Status") is not None:
                known.status = int(sku["Status"])
    return None


def _culture_name(row: Json) -> str:
    cultures = row.get("Cultures") or [{}]
    return str((cultures[0] or {}).get("Name") or row.get("Code") or "")


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConnectError(f"not a number: {value!r}") from None


_FIELDS_KEY = {
    "ImportOnhands": "SkuOnhandFieldsThatAreSet",
    "ImportSkuPriceLists": "SkuPriceListFieldsThatAreSet",
    "ImportProducts": "SkuFieldsThatAreSet",
}


def poll_job(job: Job, state: NorceState) -> Json:
    """JobDto (spec §7): Queued until polled `polls_left` times, then Succeeded or Failed."""
    if job.polls_left > 0:
        job.polls_left -= 1
        job.started = job.started or state.now()
    else:
        job.status = 3 if job.failed and not job.updates else 2
    finished = job.status in (2, 3, 4)
    return {
        "JobId": job.id, "StatusId": job.status, "StorageName": None, "Totals": job.total,
        "Inserts": job.inserts, "Updates": job.updates, "Fail": job.failed,
        "Start": job.started.isoformat() if job.started else None,
        "Stop": state.now().isoformat() if finished else None,
        "LastUpdated": state.now().isoformat(), "IsFinished": finished, "RunTime": 0,
    }  # fmt: skip


def job_response(job: Job) -> Json:
    return {
        "StatusCode": "Queued", "Description": f"{job.kind} queued", "JobId": str(job.id),
        "ValidationSummary": {"NrOfItemsInTotal": job.total, "NrOfValidationFailures": 0, "Messages": []},
    }  # fmt: skip
