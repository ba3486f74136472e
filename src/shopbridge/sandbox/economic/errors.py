"""e-conomic error bodies, annotated validation errors and the JSON request body rules (§3, §4)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from shopbridge.sandbox.economic.query import MISSING, Json

ErrorPath = tuple[str | int, ...]

VALIDATION_MESSAGE = "Validation error."
VALIDATION_HINT = "Inspect validation errors and correct your request."
NO_IDENTIFIER = "E04500"
QUANTITY_REQUIRED = "E04730"
TOO_MANY_DECIMALS = "E04740"
DOES_NOT_EXIST = "E06000"
STATUS_TEXTS = {
    400: (VALIDATION_MESSAGE, VALIDATION_HINT),
    401: ("Unauthorized.", "Send valid X-AppSecretToken and X-AgreementGrantToken headers."),
    403: ("Forbidden.", "The grant does not allow this operation."),
    404: ("Resource not found.", "Use the hypermedia links in responses instead of building URLs by hand."),
    405: ("Method not allowed.", "See the resource documentation for the verbs it accepts."),
    415: ("Unsupported media type.", "Send the body as application/json."),
    429: ("Too many requests.", "Wait the number of seconds in Retry-After, then retry."),
}  # fmt: skip


class ApiError(Exception):
    """An answer other than success, rendered as the e-conomic error body of §4."""

    def __init__(self, status: int, message: str, hint: str = "", errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.errors = errors


class AnnotatedErrors:
    """Collects errors in a tree that mirrors the request body; list items carry `arrayIndex`."""

    def __init__(self) -> None:
        self._tree: dict[Any, Any] = {}

    def __bool__(self) -> bool:
        return bool(self._tree)

    def add(self, path: ErrorPath, message: str, code: str | None = None, value: Any = MISSING) -> None:
        node = self._tree
        for step in path:
            node = node.setdefault(step, {})
        entry: Json = {"message": message}
        if code is not None:
            entry["errorCode"] = code
        if value is not MISSING:
            entry["value"] = value
        node.setdefault("errors", []).append(entry)

    def as_json(self) -> Json:
        return _render_tree(self._tree)

    def raise_if_any(self) -> None:
        if self._tree:
            raise ApiError(400, VALIDATION_MESSAGE, VALIDATION_HINT, self.as_json())


def _render_tree(node: dict[Any, Any]) -> Json:
    rendered: Json = {}
    for key, child in node.items():
        if key == "errors":
            rendered[key] = child
        elif any(isinstance(step, int) for step in child):
            rendered[key] = [{"arrayIndex": index, **_render_tree(item)} for index, item in sorted(child.items())]
        else:
            rendered[key] = _render_tree(child)
    return rendered


def error_body(status: int, message: str, hint: str, errors: Json | None, *, log_id: str, log_time: str) -> Json:
    """The error body of §4; empty message and hint take the defaults for the status."""
    default_message, default_hint = STATUS_TEXTS.get(status, ("An error occurred.", "Try again later."))
    body: Json = {"message": message or default_message, "developerHint": hint or default_hint,
                  "logId": log_id, "httpStatusCode": status, "logTime": log_time}  # fmt: skip
    if errors:
        body["errors"] = errors
    return body


def parse_json_body(raw: bytes) -> Json:
    """A request body: a JSON object, numbers with decimals as Decimal, no nulls (§3)."""
    try:
        payload = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except ValueError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    errors = AnnotatedErrors()
    reject_nulls(payload, errors)
    errors.raise_if_any()
    return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def reject_nulls(value: Any, errors: AnnotatedErrors, path: ErrorPath = ()) -> None:
    """JSON null is not accepted on write (§3): omit a property to clear it."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        if child is None:
            errors.add((*path, key), "Null is not allowed; omit the property instead.", value=None)
        else:
            reject_nulls(child, errors, (*path, key))
