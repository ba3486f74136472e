"""XML and JSON output of the emulated PrestaShop webservice, error bodies included (spec §3)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from shopbridge.sandbox.prestashop.query import Display, Row, WebserviceError
from shopbridge.sandbox.prestashop.schema import AssociationSpec, FieldSpec, ResourceSpec

XLINK = "http://www.w3.org/1999/xlink"
HREF = f"{{{XLINK}}}href"
XML_CONTENT_TYPE = "text/xml;charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_FORMATS = {"int": "isInt", "bool": "isBool", "d6": "isPrice", "d3": "isFloat", "d2": "isFloat",
            "date": "isDate", "day": "isDateFormat", "email": "isEmail", "tracking": "isTrackingNumber"}


@dataclass(frozen=True)
class RenderContext:
    api_url: str  # e.g. http://host/api, for xlink:href
    languages: tuple[int, ...]
    as_json: bool = False

    @property
    def content_type(self) -> str:
        return JSON_CONTENT_TYPE if self.as_json else XML_CONTENT_TYPE

    def href(self, resource: str, entity_id: object) -> str:
        return f"{self.api_url}/{resource}/{entity_id}"


def render_errors(errors: Sequence[WebserviceError], as_json: bool) -> bytes:
    """`<errors><error><code/><message/></error></errors>`, or `{"errors":[...]}` in JSON."""
    if as_json:
        items = [{"code": error.code, "message": error.message} for error in errors]
        return json.dumps({"errors": items}).encode()
    root = _envelope()
    container = etree.SubElement(root, "errors")
    for error in errors:
        item = etree.SubElement(container, "error")
        _text(etree.SubElement(item, "code"), str(error.code))
        _text(etree.SubElement(item, "message"), error.message)
    return _serialise(root)


def render_list(spec: ResourceSpec, rows: Sequence[Row], display: Display | None, ctx: RenderContext) -> bytes:
    """A list: ids and links without `display`, else the selected fields of every entity."""
    if ctx.as_json:
        if not rows:
            return b"[]"  # an empty list is a bare JSON array (spec §3.2)
        items = [{"id": int(row["id"])} if display is None else _json_entity(spec, row, display, ctx)
                 for row in rows]
        return _json({spec.name: items})
    root = _envelope()
    plural = etree.SubElement(root, spec.name)
    for row in rows:
        if display is None:
            etree.SubElement(plural, spec.node, {"id": str(row["id"]), HREF: ctx.href(spec.name, row["id"])})
        else:
            _xml_entity(plural, spec, row, display, ctx)
    if not rows:
        plural.text = "\n"
    return _serialise(root)


def render_single(spec: ResourceSpec, row: Row, display: Display | None, ctx: RenderContext) -> bytes:
    """One entity; in JSON a `display` parameter selects the plural array shape (spec §3.2)."""
    if ctx.as_json:
        if display is None:
            return _json({spec.node: _json_entity(spec, row, Display(), ctx)})
        return _json({spec.name: [_json_entity(spec, row, display, ctx)]})
    root = _envelope()
    _xml_entity(root, spec, row, display or Display(), ctx)
    return _serialise(root)


def render_schema(spec: ResourceSpec, synopsis: bool, ctx: RenderContext) -> bytes:
    """`schema=blank` (an empty entity to fill) or `schema=synopsis` (annotated with rules)."""
    if ctx.as_json:
        template: dict[str, Any] = {"id": "", **{item.name: "" for item in spec.fields}}
        if spec.associations:
            template["associations"] = {assoc.name: [] for assoc in spec.associations}
        return _json({spec.node: template})
    root = _envelope()
    entity = etree.SubElement(root, spec.node)
    _text(etree.SubElement(entity, "id"), "")
    for item in spec.fields:
        element = _schema_field(entity, item, ctx)
        if synopsis:
            # lxml-stubs types the keys as str | bytes in an invariant Mapping, so a dict[str, str] is refused.
            element.attrib.update(_synopsis_attributes(item))  # type: ignore[arg-type]
    if spec.associations:
        _schema_associations(etree.SubElement(entity, "associations"), spec.associations)
    return _serialise(root)


def render_index(specs: Sequence[ResourceSpec], shop_name: str, patch: bool, ctx: RenderContext) -> bytes:
    """`GET /api/`: one element per resource with the methods the key may use and schema links."""
    if ctx.as_json:
        resources = {spec.name: {"description": spec.description, **_permissions(spec, patch)} for spec in specs}
        return _json({"api": {"shopName": shop_name, **resources}})
    root = _envelope()
    api = etree.SubElement(root, "api", {"shopName": shop_name})
    for spec in specs:
        link = f"{ctx.api_url}/{spec.name}"
        attributes = {HREF: link, **{key: str(value).lower() for key, value in _permissions(spec, patch).items()}}
        resource = etree.SubElement(api, spec.name, attributes)
        etree.SubElement(resource, "description", attributes).text = spec.description
        for kind in ("blank", "synopsis"):
            etree.SubElement(resource, "schema", {HREF: f"{link}?schema={kind}", "type": kind})
    return _serialise(root)


def _permissions(spec: ResourceSpec, patch: bool) -> dict[str, bool]:
    allowed = spec.methods - spec.forbidden - (set() if patch else {"PATCH"})
    return {method.lower(): method in allowed for method in ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")}


def _envelope() -> etree._Element:
    return etree.Element("prestashop", nsmap={"xlink": XLINK})


def _serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="\t")
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8") + b"\n"


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def _text(element: etree._Element, value: str | None, empty_cdata: bool = False) -> None:
    """Scalars go in CDATA; empty values give an empty element (`<note></note>`)."""
    if not value:
        element.text = etree.CDATA("") if empty_cdata else ""
        return
    try:
        element.text = etree.CDATA(value)
    except ValueError:
        element.text = value  # CDATA cannot hold "]]>"; escaped text reads the same


def _xml_entity(parent: etree._Element, spec: ResourceSpec, row: Row, display: Display,
                ctx: RenderContext) -> None:
    entity = etree.SubElement(parent, spec.node)
    if display.shows("id"):
        _text(etree.SubElement(entity, "id"), str(row["id"]))
    for item in spec.fields:
        if display.shows(item.name):
            _xml_field(entity, item, row.get(item.name), ctx)
    associations = [(assoc, display.fields.get(assoc.name) if display.fields else None)
                    for assoc in spec.associations if display.shows(assoc.name)]
    if associations:
        container = etree.SubElement(entity, "associations")
        for assoc, sub_fields in associations:
            _xml_association(container, assoc, row.get("associations", {}).get(assoc.name, []), sub_fields, ctx)


def _xml_field(parent: etree._Element, item: FieldSpec, value: Any, ctx: RenderContext) -> None:
    element = etree.SubElement(parent, item.name)
    if item.link and value not in (None, "", "0"):
        element.set(HREF, ctx.href(item.link, value))
    if item.getter:
        element.set("notFilterable", "true")
    if item.i18n:
        for lang in ctx.languages:
            language = etree.SubElement(element, "language", {"id": str(lang), HREF: ctx.href("languages", lang)})
            text = value.get(lang, "") if isinstance(value, dict) else value or ""
            _text(language, text, empty_cdata=True)
        return
    _text(element, None if value is None else str(value))


def _xml_association(parent: etree._Element, assoc: AssociationSpec, items: Sequence[dict[str, str]],
                     sub_fields: list[str] | None, ctx: RenderContext) -> None:
    attributes = {"nodeType": assoc.node}
    attributes.update({"api": assoc.api} if assoc.api else {"virtualEntity": "true"})
    container = etree.SubElement(parent, assoc.name, attributes)
    for item in items:
        child = etree.SubElement(container, assoc.node)
        if assoc.api:
            child.set(HREF, ctx.href(assoc.api, item.get("id", "")))
        _text(etree.SubElement(child, "id"), item.get("id", ""))
        for sub in assoc.fields:
            if sub_fields is None or sub.name in sub_fields:
                _xml_field(child, sub, item.get(sub.name, ""), ctx)


def _json_entity(spec: ResourceSpec, row: Row, display: Display, ctx: RenderContext) -> dict[str, Any]:
    entity: dict[str, Any] = {}
    if display.shows("id"):
        entity["id"] = int(row["id"])
    for item in spec.fields:
        if display.shows(item.name):
            entity[item.name] = _json_value(item, row.get(item.name), ctx)
    associations = {
        assoc.name: _json_association(assoc, row.get("associations", {}).get(assoc.name, []),
                                      display.fields.get(assoc.name) if display.fields else None)
        for assoc in spec.associations if display.shows(assoc.name)
    }
    if associations:
        entity["associations"] = associations
    return entity


def _json_value(item: FieldSpec, value: Any, ctx: RenderContext) -> Any:
    if item.i18n:
        values = value if isinstance(value, dict) else {lang: value or "" for lang in ctx.languages}
        if len(ctx.languages) == 1:
            return values.get(ctx.languages[0], "")
        return [{"id": str(lang), "value": values.get(lang, "")} for lang in ctx.languages]
    if value is None:
        return None
    return int(value) if item.json_int and str(value).lstrip("-").isdigit() else str(value)


def _json_association(assoc: AssociationSpec, items: Sequence[dict[str, str]],
                      sub_fields: list[str] | None) -> list[dict[str, str]]:
    names = ["id", *(sub.name for sub in assoc.fields if sub_fields is None or sub.name in sub_fields)]
    return [{name: str(item.get(name, "")) for name in names} for item in items]


def _schema_field(entity: etree._Element, item: FieldSpec, ctx: RenderContext) -> etree._Element:
    element = etree.SubElement(entity, item.name)
    if item.i18n:
        for lang in ctx.languages:
            etree.SubElement(element, "language", {"id": str(lang), HREF: ctx.href("languages", lang)}).text = ""
    else:
        element.text = ""
    return element


def _synopsis_attributes(item: FieldSpec) -> dict[str, str]:
    attributes = {"format": "isUnsignedId" if item.link else _FORMATS.get(item.kind, "isGenericName")}
    if item.required:
        attributes["required"] = "true"
    if not item.writable:
        attributes["readOnly"] = "true"
    if item.getter:
        attributes["notFilterable"] = "true"
    return attributes


def _schema_associations(container: etree._Element, associations: Sequence[AssociationSpec]) -> None:
    for assoc in associations:
        attributes = {"nodeType": assoc.node}
        attributes.update({"api": assoc.api} if assoc.api else {"virtualEntity": "true"})
        template = etree.SubElement(etree.SubElement(container, assoc.name, attributes), assoc.node)
        for name in ["id", *(sub.name for sub in assoc.fields)]:
            etree.SubElement(template, name).text = ""
