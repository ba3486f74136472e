"""The e-conomic REST query language (`filter=`, `sort=`), paging envelope and id encoding (spec §3)."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import quote

Json = dict[str, Any]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 1000
MAX_IN_VALUES = 200
FILTER_OPERATORS = ("eq", "ne", "gte", "gt", "lte", "lt", "like", "nin", "in", "null")
# Characters that stand for themselves after a `$` inside a filter value (§3 escapes).
_ESCAPABLE = frozenset("$()*,[]")
_PROPERTY_PATH = r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*"
_CONDITION_HEAD = re.compile(rf"({_PROPERTY_PATH})\$({'|'.join(FILTER_OPERATORS)}):")
_JUNCTIONS = {"$and:": "and", "$or:": "or"}

# Product numbers in URLs: these characters become `_N_` tokens, the rest is URL-encoded (§3).
_ID_TOKEN_BY_CHAR = {
    "_": "_8_", "<": "_0_", ">": "_1_", "*": "_2_", "%": "_3_", ":": "_4_", "&": "_5_", "/": "_6_",
    "\\": "_7_", " ": "_9_", "?": "_10_", ".": "_11_", "#": "_12_", "+": "_13_",
}  # fmt: skip
_ID_CHAR_BY_TOKEN = {token: char for char, token in _ID_TOKEN_BY_CHAR.items()}
_ID_TOKEN = re.compile(r"_\d{1,2}_")
# Reference objects: the property that names the referenced entity, and where it lives.
REFERENCE_KEYS = {
    "customer": ("customerNumber", "customers"), "layout": ("layoutNumber", "layouts"),
    "paymentTerms": ("paymentTermsNumber", "payment-terms"), "vatZone": ("vatZoneNumber", "vat-zones"),
    "product": ("productNumber", "products"), "unit": ("unitNumber", "units"),
    "customerGroup": ("customerGroupNumber", "customer-groups"),
    "productGroup": ("productGroupNumber", "product-groups"),
}  # fmt: skip
LINK_TARGETS = {key: table for key, table in REFERENCE_KEYS.values()} | {"draftInvoiceNumber": "invoices/drafts"}


class QueryError(ValueError):
    """A malformed or disallowed `filter`, `sort` or paging parameter (answered with 400)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def encode_id(value: str | int) -> str:
    """The URL path segment for a resource id; per character, so `_` never gets encoded twice."""
    return quote("".join(_ID_TOKEN_BY_CHAR.get(char, char) for char in str(value)), safe="")


def decode_id(segment: str) -> str:
    """Undo `encode_id` on an already percent-decoded path segment."""
    return _ID_TOKEN.sub(lambda match: _ID_CHAR_BY_TOKEN.get(match.group(0), match.group(0)), segment)


def resolve_path(resource: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path such as `references.other`, or MISSING."""
    value: Any = resource
    for name in path.split("."):
        if not isinstance(value, Mapping) or name not in value or value[name] is None:
            return MISSING
        value = value[name]
    return value


# --- JSON form -------------------------------------------------------------------------------


def to_wire(value: Any) -> Any:
    """JSON-ready: Decimal as a number, false booleans and absent values left out (§3)."""
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items() if v is not None and v is not False}
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    # Floats only at the wire: the shortest repr of a 2-decimal amount parses back exactly.
    return float(value) if isinstance(value, Decimal) else value


def with_links(value: Any, base: str) -> Any:
    """Give every nested reference object its `self` link."""
    if isinstance(value, list):
        return [with_links(item, base) for item in value]
    if not isinstance(value, dict):
        return value
    linked = {key: with_links(child, base) for key, child in value.items()}
    for key, table in LINK_TARGETS.items():
        if key in value and len(LINK_TARGETS.keys() & value.keys()) == 1:
            linked["self"] = f"{base}/{table}/{encode_id(value[key])}"
    return linked


# --- filter ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterValue:
    text: str  # escapes resolved, wildcards kept as plain `*`
    like_parts: tuple[str, ...]  # text split at unescaped `*`
    items: tuple[str, ...] | None  # the members of an unescaped `[a,b,c]` list


@dataclass(frozen=True)
class Condition:
    path: str
    operator: str
    value: FilterValue


@dataclass(frozen=True)
class Junction:
    operator: Literal["and", "or"]
    operands: tuple[Condition | Junction, ...]


FilterNode = Condition | Junction


def parse_filter(text: str) -> FilterNode:
    """Parse `name$eq:Joe$and:(city$like:*port$or:age$lt:40)`; `$and:` binds tighter than `$or:`."""
    parser = _FilterParser(text)
    node = parser.disjunction()
    if parser.pos != len(text):
        raise QueryError(f"Unexpected {text[parser.pos:]!r} in filter at position {parser.pos}.")
    return node


class _FilterParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def disjunction(self) -> FilterNode:
        return self._chain("or", self.conjunction)

    def conjunction(self) -> FilterNode:
        return self._chain("and", self.term)

    def _chain(self, operator: Literal["and", "or"], operand: Any) -> FilterNode:
        nodes = [operand()]
        while self._accept(f"${operator}:"):
            nodes.append(operand())
        return nodes[0] if len(nodes) == 1 else Junction(operator, tuple(nodes))

    def term(self) -> FilterNode:
        if self._accept("("):
            node = self.disjunction()
            if not self._accept(")"):
                raise QueryError(f"Missing ')' in filter at position {self.pos}.")
            return node
        match = _CONDITION_HEAD.match(self.text, self.pos)
        if match is None:
            raise QueryError(f"Expected property$operator: in filter at position {self.pos}.")
        self.pos = match.end()
        return Condition(match.group(1), match.group(2), self._value())

    def _accept(self, token: str) -> bool:
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def _value(self) -> FilterValue:
        """Read up to the next unescaped `)` or `$and:`/`$or:`; (char, structural) pairs."""
        chars: list[tuple[str, bool]] = []
        while self.pos < len(self.text) and not self._at_value_end():
            char = self.text[self.pos]
            if char == "$":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if escaped not in _ESCAPABLE or not escaped:
                    raise QueryError(f"Unescaped '$' in filter value at position {self.pos}.")
                chars.append((escaped, False))
                self.pos += 2
                continue
            if char == "(":
                raise QueryError(f"Unescaped '(' in filter value at position {self.pos}.")
            chars.append((char, char in "*[],"))
            self.pos += 1
        return _filter_value(chars)

    def _at_value_end(self) -> bool:
        return self.text[self.pos] == ")" or any(self.text.startswith(j, self.pos) for j in _JUNCTIONS)


def _filter_value(chars: list[tuple[str, bool]]) -> FilterValue:
    text = "".join(char for char, _ in chars)
    like_parts = tuple(_split(chars, "*"))
    items = None
    if len(chars) >= 2 and chars[0] == ("[", True) and chars[-1] == ("]", True):
        inner = chars[1:-1]
        items = tuple(item.strip() for item in _split(inner, ",")) if inner else ()
    return FilterValue(text, like_parts, items)


def _split(chars: list[tuple[str, bool]], separator: str) -> list[str]:
    parts = [""]
    for char, structural in chars:
        if structural and char == separator:
            parts.append("")
        else:
            parts[-1] += char
    return parts


def filter_paths(node: FilterNode) -> set[str]:
    if isinstance(node, Condition):
        return {node.path}
    paths: set[str] = set()
    for operand in node.operands:
        paths |= filter_paths(operand)
    return paths


def check_filterable(node: FilterNode, allowed: Collection[str]) -> None:
    """Only properties flagged filterable may be used; `inventory.*` allows a whole object."""
    for path in sorted(filter_paths(node)):
        if not _path_allowed(path, allowed):
            raise QueryError(f"Property '{path}' is not filterable.")


def _path_allowed(path: str, allowed: Collection[str]) -> bool:
    return path in allowed or any(
        pattern.endswith(".*") and path.startswith(pattern[:-1]) for pattern in allowed
    )


def matches(node: FilterNode, resource: Mapping[str, Any]) -> bool:
    if isinstance(node, Junction):
        combine = all if node.operator == "and" else any
        return combine(matches(operand, resource) for operand in node.operands)
    return _condition_matches(node, resource)


def _condition_matches(condition: Condition, resource: Mapping[str, Any]) -> bool:
    actual = resolve_path(resource, condition.path)
    operator, value = condition.operator, condition.value
    if actual is MISSING and operator in ("eq", "ne") and value.text.lower() in ("true", "false"):
        actual = False  # booleans are omitted when false (§3)
    if operator == "null":
        # An empty value or `true` asks for absent values; `false` for present ones.
        return (actual is MISSING) == (value.text.strip().lower() in ("", "true"))
    if actual is MISSING or isinstance(actual, (dict, list)):
        return operator in ("ne", "nin")
    if operator in ("in", "nin"):
        return _in_list(actual, value) == (operator == "in")
    if operator == "like":
        return _like(actual, value)
    return _compare(operator, *_comparable(actual, value.text))


def _in_list(actual: Any, value: FilterValue) -> bool:
    if value.items is None:
        raise QueryError("$in: and $nin: take a list such as [2,5,7].")
    if len(value.items) > MAX_IN_VALUES:
        raise QueryError(f"$in: and $nin: take at most {MAX_IN_VALUES} values.")
    numbers = [_number(item) for item in value.items]
    if isinstance(actual, bool) or not isinstance(actual, (int, float, Decimal)):
        raise QueryError("$in: and $nin: are only allowed on numeric properties.")
    return Decimal(str(actual)) in numbers


def _like(actual: Any, value: FilterValue) -> bool:
    subject = _text(actual).casefold()
    parts = [part.casefold() for part in value.like_parts]
    if len(parts) == 1:
        return parts[0] in subject  # without a wildcard, $like: means "contains"
    pattern = ".*".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, subject, flags=re.DOTALL) is not None


def _comparable(actual: Any, text: str) -> tuple[Any, Any]:
    """Coerce the filter text to the type of the stored value; strings compare case-insensitively."""
    if isinstance(actual, bool):
        if text.lower() not in ("true", "false"):
            raise QueryError(f"{text!r} is not a boolean.")
        return actual, text.lower() == "true"
    if isinstance(actual, (int, float, Decimal)):
        return Decimal(str(actual)), _number(text)
    return _text(actual).casefold(), text.casefold()


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    outcomes = {
        "eq": actual == expected, "ne": actual != expected,
        "gt": actual > expected, "gte": actual >= expected,
        "lt": actual < expected, "lte": actual <= expected,
    }  # fmt: skip
    return bool(outcomes[operator])


def _number(text: str) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise QueryError(f"{text!r} is not a number.") from None
    if not number.is_finite():
        raise QueryError(f"{text!r} is not a number.")
    return number


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- sort --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    path: str
    descending: bool = False
    alphabetic: bool = False  # `~name`: compare numbers as text

    def value_of(self, resource: Json) -> tuple[Any, ...]:
        return _sort_value(resolve_path(resource, self.path), self)


def parse_sort(text: str, allowed: Collection[str]) -> list[SortKey]:
    """`sort=-name,age,~number`; only sortable properties."""
    keys: list[SortKey] = []
    for raw in (part.strip() for part in text.split(",")):
        descending = raw.startswith("-")
        name = raw.lstrip("-")
        alphabetic = name.startswith("~")
        name = name.lstrip("~")
        if not name or not _path_allowed(name, allowed):
            raise QueryError(f"Property '{name or raw}' is not sortable.")
        keys.append(SortKey(name, descending, alphabetic))
    return keys


def sort_resources(resources: Iterable[Json], keys: Sequence[SortKey]) -> list[Json]:
    """Stable sort by several keys; absent values come first in ascending order."""
    ordered = list(resources)
    for key in reversed(keys):
        ordered.sort(key=key.value_of, reverse=key.descending)
    return ordered


def _sort_value(value: Any, key: SortKey) -> tuple[Any, ...]:
    if value is MISSING or isinstance(value, (dict, list)):
        return (0,)
    if key.alphabetic or not isinstance(value, (int, float, Decimal)) or isinstance(value, bool):
        return (2, _text(value).casefold())
    return (1, Decimal(str(value)))


# --- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    skip_pages: int = 0
    page_size: int = DEFAULT_PAGE_SIZE


def parse_paging(params: Mapping[str, str]) -> PageRequest:
    """Read `skippages`/`pagesize`; the names are matched case-insensitively (`skipPages` works too)."""
    lowered = {name.lower(): value for name, value in params.items()}
    skip_pages = _whole_number(lowered.get("skippages", "0"), "skippages")
    page_size = _whole_number(lowered.get("pagesize", str(DEFAULT_PAGE_SIZE)), "pagesize")
    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise QueryError(f"pagesize must be between 1 and {MAX_PAGE_SIZE}.")
    return PageRequest(skip_pages, page_size)


def _whole_number(text: str, name: str) -> int:
    if not text.strip().isdigit():
        raise QueryError(f"{name} must be a whole number of at least 0.")
    return int(text)


def page_envelope(
    resources: Sequence[Json],
    *,
    page: PageRequest,
    results_without_filter: int,
    collection_url: str,
    carried: Mapping[str, str],
) -> Json:
    """The `collection` + `pagination` + `self` body of §3; `nextPage` only when there is one."""
    last = max(0, math.ceil(len(resources) / page.page_size) - 1)
    start = page.skip_pages * page.page_size
    pagination: Json = {
        "maxPageSizeAllowed": MAX_PAGE_SIZE,
        "skipPages": page.skip_pages,
        "pageSize": page.page_size,
        "results": len(resources),
        "resultsWithoutFilter": results_without_filter,
        "firstPage": page_link(collection_url, 0, page.page_size, carried),
    }
    if page.skip_pages < last:
        pagination["nextPage"] = page_link(collection_url, page.skip_pages + 1, page.page_size, carried)
    pagination["lastPage"] = page_link(collection_url, last, page.page_size, carried)
    return {
        "collection": list(resources[start : start + page.page_size]),
        "pagination": pagination,
        "self": page_link(collection_url, page.skip_pages, page.page_size, carried),
    }


def page_link(collection_url: str, skip_pages: int, page_size: int, carried: Mapping[str, str]) -> str:
    """A page URL that keeps the request's filter and sort."""
    query = f"skippages={skip_pages}&pagesize={page_size}"
    for name, value in carried.items():
        query += f"&{name}={quote(value, safe='$:')}"
    return f"{collection_url}?{query}"
