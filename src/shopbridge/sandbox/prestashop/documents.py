"""Writes to the emulated PrestaShop webservice: XML bodies, POST/PUT/PATCH/DELETE and side effects (spec §5, §8)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import unquote_plus

from lxml import etree

from shopbridge.sandbox.prestashop.query import WebserviceError, php_intval
from shopbridge.sandbox.prestashop.schema import DECIMAL_PLACES, FieldSpec, ResourceSpec
from shopbridge.sandbox.prestashop.seed import password_hash
from shopbridge.sandbox.prestashop.state import (
    PrestaShopState,
    Row,
    add_stock_row,
    amount,
    blank_row,
    change_order_state,
    resync_product_stock,
    send_order_mail,
    state_template,
    stock_row,
)

Value = str | dict[int, str]
_VALID = {
    "int": r"-?\d+", "bool": r"[01]", "d6": r"-?\d+(\.\d+)?", "d3": r"-?\d+(\.\d+)?", "d2": r"-?\d+(\.\d+)?",
    "date": r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", "day": r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?",
    "email": r"[^@\s]+@[^@\s]+\.[^@\s]+", "tracking": r"[~:#,%&_=()\[\].? +\-@/a-zA-Z0-9]+",
}


@dataclass
class EntityInput:
    """One child of `<prestashop>` in a write body: field values and, if sent, associations."""

    values: dict[str, Value]
    associations: dict[str, list[dict[str, str]]] | None = None

    @property
    def id_text(self) -> str:
        value = self.values.get("id")
        return value if isinstance(value, str) else ""


def parse_entities(body: bytes) -> list[EntityInput]:
    """Read an XML write body (optionally form-style `xml=...`); parse errors are code 127."""
    if body.startswith(b"xml="):
        body = unquote_plus(body[4:].decode()).encode()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise WebserviceError(500, 127, f"XML error : {exc}\nXML length : {len(body)}\n"
                              f"Original XML : {body.decode(errors='replace')}") from exc
    return [_entity_input(child) for child in _elements(root)]


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Child elements, skipping comments and processing instructions."""
    return [child for child in parent if isinstance(child.tag, str)]


def _entity_input(element: etree._Element) -> EntityInput:
    entity = EntityInput({})
    for child in _elements(element):
        if child.tag == "associations":
            entity.associations = {assoc.tag: [_leaves(item) for item in _elements(assoc)]
                                   for assoc in _elements(child)}
            continue
        languages = [lang for lang in _elements(child) if lang.tag == "language"]
        entity.values[child.tag] = ({php_intval(lang.get("id", "0")): lang.text or "" for lang in languages}
                                    if languages else child.text or "")
    return entity


def _leaves(item: etree._Element) -> dict[str, str]:
    return {leaf.tag: leaf.text or "" for leaf in _elements(item)}


# -- create / update --------------------------------------------------------------------------------

def create_entities(state: PrestaShopState, spec: ResourceSpec, entities: list[EntityInput],
                    send_email: bool) -> list[int]:
    """POST: no entity may carry an id (code 91); each is created in turn."""
    if any(entity.id_text for entity in entities):
        raise WebserviceError(400, 91, "id is forbidden when adding a new resource")
    if spec.name == "order_histories":
        return [_post_order_history(state, spec, entity, send_email) for entity in entities]
    ids = []
    for entity in entities:
        row = blank_row(spec, state.languages)
        _assign(state, spec, row, entity, partial=False)
        now = state.now()
        row.update({name: now for name in ("date_add", "date_upd") if spec.field(name)})
        _before_create(state, spec.name, row)
        new_id = state.next_id(spec.name)
        row["id"] = new_id
        state.put(spec.name, row)
        _after_create(state, spec.name, row)
        ids.append(new_id)
    return ids


def update_entities(state: PrestaShopState, spec: ResourceSpec, entities: list[EntityInput], partial: bool,
                    send_email: bool) -> list[int]:
    """PUT (replace; absent optional fields reset) or PATCH (only the fields sent); the id comes from the body."""
    ids = [entity.id_text for entity in entities if entity.id_text]
    if len(set(ids)) != len(ids):
        raise WebserviceError(400, 89, "id is duplicate in request")
    if len(ids) != len(entities):
        raise WebserviceError(400, 90, "id is required when modifying a resource")
    return [_update_one(state, spec, entity, partial, send_email) for entity in entities]


def _update_one(state: PrestaShopState, spec: ResourceSpec, entity: EntityInput, partial: bool,
                send_email: bool) -> int:
    entity_id = php_intval(entity.id_text)
    current = state.table(spec.name).get(entity_id)
    if current is None:
        raise WebserviceError(404, 92, "Invalid ID")
    row = {**current, "associations": dict(current.get("associations", {}))}
    _assign(state, spec, row, entity, partial)
    if spec.field("date_upd"):
        row["date_upd"] = state.now()
    date_add = spec.field("date_add")
    if date_add is not None and row["date_add"] in ("", date_add.blank()):
        row["date_add"] = current["date_add"]  # a PUT without date_add keeps the creation date
    setters = _setter_effects(state, spec.name, current, row, entity)
    _before_update(spec.name, row)
    state.put(spec.name, row)
    for effect in setters:
        effect()
    _after_update(state, spec.name, row, send_email)
    return entity_id


def _assign(state: PrestaShopState, spec: ResourceSpec, row: Row, entity: EntityInput, partial: bool) -> None:
    """Copy the sent fields into the row in the order PrestaShop checks them (codes 93, 41, 84, 85)."""
    for item in spec.fields:
        raw = entity.values.get(item.name)
        if item.i18n:
            if raw is not None:
                row[item.name] = {**row[item.name], **raw} if isinstance(raw, dict) else state.i18n(raw)
            continue
        if raw is not None:
            if not item.writable:
                raise WebserviceError(400, 93, f'parameter "{item.name}" not writable. '
                                      "Please remove this attribute of this XML")
            row[item.name] = raw if isinstance(raw, str) else next(iter(raw.values()), "")
        elif item.required and not partial:
            raise WebserviceError(400, 41, f'parameter "{item.name}" required')
        elif not partial and not item.getter:
            row[item.name] = item.blank()
    _validate(state, spec, row, entity)
    _assign_associations(spec, row, entity)


def _validate(state: PrestaShopState, spec: ResourceSpec, row: Row, entity: EntityInput) -> None:
    for item in spec.fields:
        if item.i18n and item.required and not row[item.name].get(state.languages[0]):
            raise WebserviceError(400, 84, f'Validation error: "Property {spec.class_name}->{item.name} '
                                  'is empty for default language."')
        if not item.i18n and item.name in entity.values and not item.getter:
            row[item.name] = _normalised(spec, item, str(row[item.name]))


def _normalised(spec: ResourceSpec, item: FieldSpec, value: str) -> str:
    """Check a sent value with the field's validator and store it as the database would print it."""
    if value == "":
        if item.required:
            raise WebserviceError(400, 85, f'Validation error: "Property {spec.class_name}->{item.name} is empty."')
        return item.blank()
    pattern = r"\d+" if item.link else _VALID.get(item.kind)
    if pattern is not None and not re.fullmatch(pattern, value):
        raise WebserviceError(400, 85, f'Validation error: "Property {spec.class_name}->{item.name} is not valid"')
    if item.kind in DECIMAL_PLACES:
        return amount(Decimal(value), DECIMAL_PLACES[item.kind])
    return str(int(value)) if item.kind == "int" or item.link else value


def _assign_associations(spec: ResourceSpec, row: Row, entity: EntityInput) -> None:
    """Writable associations are replaced; read-only ones ignored; unknown names are code 86."""
    for name, items in (entity.associations or {}).items():
        assoc = spec.association(name)
        if assoc is None and name != "i18n":
            raise WebserviceError(400, 86, f'The association "{name}" does not exists')
        if assoc is not None and assoc.writable:
            row["associations"][name] = items


# -- resource-specific behaviour --------------------------------------------------------------------

def _setter_effects(state: PrestaShopState, resource: str, current: Row, row: Row,
                    entity: EntityInput) -> list[Callable[[], None]]:
    """Fields whose setter does more than store a value; effects run once the row is saved."""
    effects: list[Callable[[], None]] = []
    if resource == "customers" and row["passwd"] != current["passwd"]:
        row["passwd"] = password_hash(str(row["passwd"]))
    if resource == "orders":
        new_state, row["current_state"] = row["current_state"], current["current_state"]
        if new_state != current["current_state"]:
            effects.append(lambda: _change_state_or_fail(state, int(row["id"]), php_intval(str(new_state))))
        tracking = entity.values.get("shipping_number")
        if isinstance(tracking, str):
            effects.append(lambda: _set_tracking(state, int(row["id"]), tracking))
    return effects


def _change_state_or_fail(state: PrestaShopState, order_id: int, state_id: int) -> None:
    try:
        change_order_state(state, order_id, state_id)
    except KeyError as exc:
        raise WebserviceError(400, 85, 'Validation error: "Property Order->current_state is not valid"') from exc


def _set_tracking(state: PrestaShopState, order_id: int, tracking: str) -> None:
    carriers = state.find("order_carriers", id_order=str(order_id))
    if carriers:
        carriers[0]["tracking_number"] = tracking


def _before_create(state: PrestaShopState, resource: str, row: Row) -> None:
    if resource == "customers":
        row["passwd"] = password_hash(str(row["passwd"]))
        row["last_passwd_gen"] = state.now()
        if not row["secure_key"]:
            row["secure_key"] = hashlib.md5(f"{state.now()}{state.rng.random()}".encode(),
                                            usedforsecurity=False).hexdigest()
        for name, default in (("id_shop", "1"), ("id_shop_group", "1"), ("id_default_group", "3")):
            row[name] = row[name] if row[name] != "0" else default
        row["associations"].setdefault("groups", [{"id": row["id_default_group"]}])


def _after_create(state: PrestaShopState, resource: str, row: Row) -> None:
    if resource == "products":
        add_stock_row(state, int(row["id"]), 0, 0)
    elif resource == "combinations":
        add_stock_row(state, int(row["id_product"]), int(row["id"]), 0)
        resync_product_stock(state, int(row["id_product"]))


def _before_update(resource: str, row: Row) -> None:
    if resource == "stock_availables" and row["depends_on_stock"] == "1":
        raise WebserviceError(500, 133, "Error occurred while updating stock: the quantity depends on the "
                              "advanced stock management")


def _after_update(state: PrestaShopState, resource: str, row: Row, send_email: bool) -> None:
    if resource == "stock_availables" and row["id_product_attribute"] != "0":
        resync_product_stock(state, int(row["id_product"]))
    if resource == "order_carriers" and send_email and int(row["id_order"]) in state.table("orders"):
        send_order_mail(state, int(row["id_order"]), "in_transit")


def _post_order_history(state: PrestaShopState, spec: ResourceSpec, entity: EntityInput, send_email: bool) -> int:
    """POST order_histories changes the order's state (spec §8.1); `sendemail=1` mails the customer."""
    row = blank_row(spec, state.languages)
    _assign(state, spec, row, entity, partial=False)
    order_id, state_id = int(row["id_order"]), int(row["id_order_state"])
    for name, table, key in (("id_order", "orders", order_id), ("id_order_state", "order_states", state_id)):
        if key not in state.table(table):
            raise WebserviceError(400, 85, f'Validation error: "Property OrderHistory->{name} is not valid"')
    history_id = change_order_state(state, order_id, state_id, int(row["id_employee"]))
    template = state_template(state, state_id)
    if send_email and template:
        send_order_mail(state, order_id, template)
    return history_id


# -- delete -----------------------------------------------------------------------------------------

def delete_entities(state: PrestaShopState, spec: ResourceSpec, ids: list[str]) -> None:
    """DELETE one or many ids; if any is missing nothing is deleted (code 87)."""
    table = state.table(spec.name)
    missing = [text for text in ids if php_intval(text) not in table]
    if missing or not ids:
        raise WebserviceError(404, 87, "Id(s) not exists: " + ", ".join(missing))
    for text in ids:
        _delete_one(state, spec.name, php_intval(text))


def _delete_one(state: PrestaShopState, resource: str, entity_id: int) -> None:
    table = state.table(resource)
    row = table[entity_id]
    if resource == "addresses" and _address_in_use(state, entity_id):
        row["deleted"] = "1"  # an address used by an order is only flagged, as the core does
        return
    del table[entity_id]
    if resource == "products":
        for child in ("combinations", "stock_availables"):
            for found in state.find(child, id_product=str(entity_id)):
                del state.table(child)[int(found["id"])]
    elif resource == "combinations":
        stock = stock_row(state, int(row["id_product"]), entity_id)
        if stock is not None:
            del state.table("stock_availables")[int(stock["id"])]
        resync_product_stock(state, int(row["id_product"]))


def _address_in_use(state: PrestaShopState, address_id: int) -> bool:
    key = str(address_id)
    return any(key in (order["id_address_delivery"], order["id_address_invoice"])
               for order in state.table("orders").values())
