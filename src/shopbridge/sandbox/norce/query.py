"""The OData v4 query options the Norce Query API reads: $filter, $orderby, $expand, $select, $top, $skip."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shopbridge.sandbox.norce.state import QUERY_PAGE_CAP

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<number>-?\d+(?:\.\d+)?)|(?P<string>'(?:[^']|'')*')|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_/]*))"
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_LITERALS: dict[str, Any] = {"null": None, "true": True, "false": False}


class ODataError(Exception):
    """A query the service refuses: 400 with an OData error body."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


class FilterParser:
    """Recursive descent over `or`, `and`, `not`, parentheses and `field op literal` comparisons."""

    def __init__(self, text: str, fields: Sequence[str]) -> None:
        self.tokens = tokenize(text)
        self.fields = set(fields)
        self.position = 0

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.position != len(self.tokens):
            raise ODataError(f"Syntax error: unexpected '{self.tokens[self.position].text}'.")
        return predicate

    def _peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> Token:
        token = self._peek()
        if token is None:
            raise ODataError("Syntax error: the expression ends too early.")
        self.position += 1
        return token

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (token := self._peek()) is not None and token.text == "or":
            self.position += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda row: any(part(row) for part in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while (token := self._peek()) is not None and token.text == "and":
            self.position += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda row: all(part(row) for part in parts))

    def _unary(self) -> Predicate:
        token = self._take()
        if token.text == "not":
            inner = self._unary()
            return lambda row: not inner(row)
        if token.text == "(":
            inner = self._or()
            if self._take().text != ")":
                raise ODataError("Syntax error: ')' expected.")
            return inner
        return self._comparison(token)

    def _comparison(self, name: Token) -> Predicate:
        if name.kind != "word" or name.text not in self.fields:
            raise ODataError(f"Could not find a property named '{name.text}' on type 'Order'.")
        operator = self._take().text
        if operator not in _COMPARE:
            raise ODataError(f"Syntax error: unknown operator '{operator}'.")
        value = literal(self._take())
        compare = _COMPARE[operator]

        def check(row: Row) -> bool:
            try:
                return compare(row.get(name.text), value)
            except TypeError:
                raise ODataError(f"A binary operator with incompatible types was detected: '{name.text}'.") from None

        return check


def literal(token: Token) -> Any:
    if token.kind == "datetime":
        return datetime.fromisoformat(token.text.replace("Z", "+00:00"))
    if token.kind == "number":
        return Decimal(token.text) if "." in token.text else int(token.text)
    if token.kind == "string":
        return token.text[1:-1].replace("''", "'")
    if token.text in _LITERALS:
        return _LITERALS[token.text]
    raise ODataError(f"Syntax error: '{token.text}' is not a literal.")


def parse_filter(text: str | None, fields: Sequence[str]) -> Predicate:
    return FilterParser(text, fields).parse() if text and text.strip() else (lambda row: True)


def parse_orderby(text: str | None, fields: Sequence[str]) -> list[tuple[str, bool]]:
    """`Updated asc,Id desc` as (field, descending) pairs."""
    keys = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in fields or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise ODataError(f"Invalid $orderby clause '{part.strip()}'.")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys


def sort_rows(rows: list[Row], keys: list[tuple[str, bool]]) -> list[Row]:
    """Stable sorts from the last key to the first; null sorts before any value (OData)."""
    for name, descending in reversed(keys):
        rows = sorted(rows, key=lambda row: (row.get(name) is not None, row.get(name) or 0), reverse=descending)
    return rows


def parse_expand(text: str | None, allowed: Sequence[str]) -> dict[str, list[str] | None]:
    """Navigation names to expand, each with its nested `$select` fields (None: all)."""
    expanded: dict[str, list[str] | None] = {}
    for part in _split_top(text or ""):
        match = re.fullmatch(r"\s*(\w+)\s*(?:\((.*)\))?\s*", part)
        if match is None or match.group(1) not in allowed:
            raise ODataError(f"Could not find a navigation property named '{part.strip()}'.")
        nested = re.search(r"\$select=([\w,]+)", match.group(2) or "")
        expanded[match.group(1)] = nested.group(1).split(",") if nested else None
    return expanded


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [part for part in [*parts, current] if part.strip()]


def parse_select(text: str | None) -> list[str] | None:
    names = [name.strip() for name in (text or "").split(",") if name.strip()]
    return names or None


def parse_count(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit():
        raise ODataError(f"Invalid value '{text}' for {name}; a non-negative integer is expected.")
    return int(text)


def page_bounds(top: str | None, skip: str | None) -> tuple[int, int]:
    """(skip, top) with `$top` clamped to the server's page cap (spec §2b)."""
    return parse_count(skip, "$skip", 0), min(parse_count(top, "$top", QUERY_PAGE_CAP), QUERY_PAGE_CAP)
