"""Parsing and evaluation of the webservice list parameters: display, filter, sort, limit, language (spec §4)."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shopbridge.sandbox.prestashop.schema import FieldSpec, ResourceSpec

Row = dict[str, Any]
DATE_FIELDS = ("date_add", "date_upd")
_FILTER_SHAPE = re.compile(r"(.*)\[(.*)\](.*)", re.DOTALL)
_RANGE = re.compile(r"([\d.:\-\s]+),([\d.:\-\s]+)")
_NUMBER = re.compile(r"\s*-?\d+(\.\d+)?\s*")
_BRACKETED = re.compile(r"\[(.*)\]", re.DOTALL)
_LEADING_INT = re.compile(r"\s*([+-]?\d+)")


class WebserviceError(Exception):
    """An error the webservice reports with an HTTP status and a PrestaShop error code."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Display:
    """What to print per entity: every field (`fields` None) or the named fields.

    For an association name the value is the sub-field selection (None = all of its fields).
    """

    fields: dict[str, list[str] | None] | None = None

    @property
    def full(self) -> bool:
        return self.fields is None

    def shows(self, name: str) -> bool:
        return self.fields is None or name in self.fields


@dataclass(frozen=True)
class Filter:
    field: FieldSpec | None  # None for the id
    expression: str


def php_intval(text: str) -> int:
    """PHP's `(int)` cast: leading digits, else 0."""
    match = _LEADING_INT.match(text)
    return int(match.group(1)) if match else 0


def did_you_mean(label: str, wrong: str, available: Sequence[str]) -> str:
    """The webservice's hint: the closest known name, then the full list."""
    closest = difflib.get_close_matches(wrong, available, n=1, cutoff=0.0)
    hint = f' Did you mean: "{closest[0]}"?' if closest else ""
    full_list = '", "'.join(available)
    return f'{label}.{hint} The full list is: "{full_list}"'


def parse_display(value: str | None, spec: ResourceSpec) -> Display | None:
    """`full`, `[a,b,assoc[x,y]]` or absent (None = ids only on lists); codes 35/36."""
    if value is None or value == "minimum":
        return None
    if value == "full":
        return Display()
    match = _BRACKETED.fullmatch(value)
    if match is None:
        available = ", ".join(spec.field_names())
        raise WebserviceError(400, 36, "The 'display' syntax is wrong. You can set 'full' or "
                              f"'[field_1,field_2,field_3,...]'. These are available: {available}")
    fields = _split_display(match.group(1))
    for name, sub_fields in fields.items():
        _check_display_field(spec, name, sub_fields)
    return Display(fields)


def _split_display(text: str) -> dict[str, list[str] | None]:
    """Split on commas outside brackets; `assoc[x,y]` becomes {"assoc": ["x", "y"]}."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
        depth += {"[": 1, "]": -1}.get(char, 0)
    if current:
        parts.append(current)
    fields: dict[str, list[str] | None] = {}
    for part in parts:
        name, bracket, rest = part.partition("[")
        fields[name.strip()] = [item.strip() for item in rest[:-1].split(",")] if bracket else None
    return fields


def _check_display_field(spec: ResourceSpec, name: str, sub_fields: list[str] | None) -> None:
    association = spec.association(name)
    if sub_fields is None and (name == "id" or spec.field(name) or association):
        return
    if association and all(item == "id" or association.field(item) for item in sub_fields or ()):
        return
    details = f" (details : {sub_fields})" if sub_fields is not None else ""
    available = ", ".join(spec.field_names())
    raise WebserviceError(400, 35, f'Unable to display this field "{name}{details}". '
                          f"However, these are available: {available}")


def read_filters(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`filter[field]=value` pairs from the query; a repeated key keeps its last value, as PHP does."""
    filters: dict[str, str] = {}
    for key, value in params:
        if key.startswith("filter[") and "]" in key:
            filters[key[len("filter["):key.index("]")]] = value
    return filters


def filterable_names(spec: ResourceSpec, date_enabled: bool) -> list[str]:
    """Every field a filter or sort may name; date_add/date_upd only with `date=1` (spec §4)."""
    names = spec.field_names()
    return [name for name in names if date_enabled or name not in DATE_FIELDS]


def parse_filters(raw: Mapping[str, str], spec: ResourceSpec, date_enabled: bool) -> list[Filter]:
    """Validate `filter[...]` parameters: codes 32 (unknown), 33 (empty), 34 (computed field)."""
    available = filterable_names(spec, date_enabled)
    filters = []
    for name, expression in raw.items():
        if name not in available:
            plain = [item for item in available if not _is_i18n(spec, item)]
            raise WebserviceError(400, 32, did_you_mean("This filter does not exist", name, plain))
        if expression == "":
            raise WebserviceError(400, 33, f'The filter "{name}" is malformed.')
        field_spec = spec.field(name)
        if field_spec is not None and field_spec.getter:
            raise WebserviceError(400, 34, f'The field "{name}" is dynamic. It is not possible to filter '
                                  "GET query with this field.")
        filters.append(Filter(field_spec, expression))
    return filters


def exact_ids(expression: str) -> list[str] | None:
    """The values a filter `5`, `[5]` or `[5|7|9]` matches when they are all plain ids, else None."""
    bracketed = _BRACKETED.fullmatch(expression)
    values = (bracketed.group(1) if bracketed else expression).split("|")
    if all(value.isascii() and value.isdigit() and value == str(int(value)) for value in values):
        return values
    return None


def _is_i18n(spec: ResourceSpec, name: str) -> bool:
    field_spec = spec.field(name)
    return field_spec is not None and field_spec.i18n


def row_matches(row: Row, filters: Sequence[Filter], languages: Sequence[int]) -> bool:
    """Every filter holds (AND); an i18n field holds when any returned language matches."""
    return all(_filter_holds(row, item, languages) for item in filters)


def _filter_holds(row: Row, item: Filter, languages: Sequence[int]) -> bool:
    if item.field is None:
        return matches_expression(str(row["id"]), item.expression, numeric=True)
    value = row.get(item.field.name)
    if item.field.i18n and isinstance(value, dict):
        return any(matches_expression(value.get(lang), item.expression, False) for lang in languages)
    return matches_expression(value, item.expression, item.field.numeric)


def matches_expression(value: str | None, expression: str, numeric: bool) -> bool:
    """One filter value against one stored value, following `getSQLRetrieveFilter` (spec §4.1)."""
    if value is None:
        return False  # SQL comparisons with NULL are never true
    shape = _shape(expression)
    if shape is None:
        return compare(value, expression, numeric) == 0
    prefix, inner, suffix = shape
    if prefix == "%" or suffix == "%":
        return _like(value, prefix + inner + suffix)
    if prefix == "" and suffix == "":
        return _bracket_holds(value, inner, numeric)
    if prefix in (">", "<"):
        order = compare(value, inner, numeric)
        return order > 0 if prefix == ">" else order < 0
    if prefix == "!":
        return all(compare(value, item, numeric) != 0 for item in inner.split("|"))
    return True  # any other prefix adds no SQL condition


def _bracket_holds(value: str, inner: str, numeric: bool) -> bool:
    if inner.find("|") > 0:
        return any(compare(value, item, numeric) == 0 for item in inner.split("|"))
    bounds = _range(inner)
    if bounds is not None:
        low, high = bounds
        return compare(value, low, numeric) >= 0 and compare(value, high, numeric) <= 0
    return compare(value, inner, numeric) == 0


# A list request applies one filter expression to every row of a table: parsed once, not per row.
@functools.lru_cache(maxsize=256)
def _shape(expression: str) -> tuple[str, str, str] | None:
    match = _FILTER_SHAPE.fullmatch(expression)
    return None if match is None else (match.group(1), match.group(2), match.group(3))


@functools.lru_cache(maxsize=256)
def _range(inner: str) -> tuple[str, str] | None:
    bounds = _RANGE.fullmatch(inner)
    if bounds is None:
        return None
    low, high = sorted(bounds.groups(), key=_php_sort_key)
    return low, high


def _php_sort_key(text: str) -> tuple[int, Decimal | str]:
    number = _as_number(text)
    return (0, number) if number is not None else (1, text)


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL) is not None


def _as_number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        return None


def compare(value: str, other: str, numeric: bool) -> int:
    """MySQL-like comparison: numbers as numbers on numeric columns, text case-insensitively."""
    if numeric:
        left, right = _as_number(value), _as_number(other)
        if left is not None and right is not None:
            return (left > right) - (left < right)
    left_text, right_text = value.casefold(), other.casefold()
    return (left_text > right_text) - (left_text < right_text)


def parse_sort(value: str | None, spec: ResourceSpec, date_enabled: bool) -> list[tuple[str, bool]]:
    """`[f_ASC,g_DESC]` or `f_DESC` → [(field, descending)]; split on the last `_` (codes 37/38)."""
    if value is None:
        return []
    match = _BRACKETED.fullmatch(value)
    items = match.group(1).split(",") if match else [value]
    available = filterable_names(spec, date_enabled)
    keys = []
    for item in items:
        name, underscore, direction = item.rpartition("_")
        if not underscore or direction.upper() not in ("ASC", "DESC"):
            raise WebserviceError(400, 37, 'The "sort" value has to be formed as this example: "field_ASC" or '
                                  "'[field_1_DESC,field_2_ASC,field_3_ASC,...]' "
                                  '("field" has to be an available field)')
        field_spec = spec.field(name)
        if name not in available or (field_spec is not None and field_spec.getter):
            raise WebserviceError(400, 38, "Unable to filter by this field. However, these are available: "
                                  + ", ".join(available))
        keys.append((name, direction.upper() == "DESC"))
    return keys


def sort_rows(rows: list[Row], keys: Sequence[tuple[str, bool]], spec: ResourceSpec,
              languages: Sequence[int]) -> list[Row]:
    """Order rows by the sort keys; without keys, ascending id (the table's natural order)."""
    ordered = sorted(rows, key=lambda row: int(row["id"]))
    for name, descending in reversed(keys):
        ordered.sort(key=lambda row: _sort_key(row, name, spec, languages), reverse=descending)
    return ordered


def _sort_key(row: Row, name: str, spec: ResourceSpec, languages: Sequence[int]) -> tuple[int, Any]:
    if name == "id":
        return (1, Decimal(row["id"]))
    field_spec = spec.field(name)
    value = row.get(name)
    if isinstance(value, dict):
        value = value.get(languages[0]) if languages else None
    if value is None:
        return (0, "")  # NULL sorts first in ascending order, as in MySQL
    number = _as_number(value) if field_spec is not None and field_spec.numeric else None
    return (1, number) if number is not None else (2, value.casefold())


def parse_limit(value: str | None) -> tuple[int, int | None]:
    """`N` or `offset,N` → (offset, count); more than two parts → code 39."""
    if value is None:
        return 0, None
    parts = value.split(",")
    if len(parts) > 2:
        raise WebserviceError(400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"')
    numbers = [max(php_intval(part), 0) for part in parts]
    return (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])


def apply_limit(rows: list[Row], limit: tuple[int, int | None]) -> list[Row]:
    offset, count = limit
    return rows[offset:] if count is None else rows[offset:offset + count]


def parse_languages(value: str | None, known: Sequence[int]) -> list[int]:
    """`language=N`, `[1|3]` (list) or `[2,5]` (range); unknown ids are dropped (codes 78-80)."""
    if value is None:
        return list(known)
    if value.isdigit():
        wanted = [value]
    elif value.startswith("[") and value.endswith("]"):
        wanted = _language_list(value[1:-1])
    else:
        raise WebserviceError(400, 79, "language value is wrong")
    if not all(item.strip().isdigit() for item in wanted):
        raise WebserviceError(400, 80, "Language ID must be numeric")
    return [lang for lang in known if str(lang) in {item.strip() for item in wanted}]


def _language_list(inner: str) -> list[str]:
    if "|" in inner and "," not in inner:
        return inner.split("|")
    if "," in inner and "|" not in inner:
        bounds = inner.split(",")
        if len(bounds) != 2:
            raise WebserviceError(400, 78, "A range value for a language must contains only 2 values")
        low, high = php_intval(bounds[0]), php_intval(bounds[1])
        return [str(number) for number in range(low, high + 1)]
    return [inner]
